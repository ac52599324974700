using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Aggregation;
using Marten.Events.Projections;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.Reactors;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Store;

public static class LedgerStore
{
    public const string Schema = "ledger";

    /// <summary>
    /// The version of the stored read side. A ledger whose documents were made by another version (or by none) has them
    /// rebuilt from its events on start (see <see cref="LedgerUpgrade"/>): events are the record, documents are derived.
    /// </summary>
    public const int ReadModelVersion = 8;

    public static IServiceCollection AddLedgerStore(this IServiceCollection services, Func<IServiceProvider, string> connectionString)
    {
        services.AddMarten(sp =>
            {
                var opts = new StoreOptions();
                opts.Connection(connectionString(sp));
                opts.DatabaseSchemaName = Schema;
                opts.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                opts.Events.StreamIdentity = StreamIdentity.AsGuid;
                // Rich appends assign sequences before projections run, so documents know the sequence they saw.
                opts.Events.AppendMode = EventAppendMode.Rich;
                opts.Events.MetadataConfig.EnableAll();
                opts.Events.MetadataConfig.UserNameEnabled = true;
                // The reactor runs on the async daemon: poll for new events often, so refits follow evidence within a second.
                opts.Projections.SlowPollingTime = TimeSpan.FromMilliseconds(200);
                opts.Projections.FastPollingTime = TimeSpan.FromMilliseconds(100);
                // Several Servers on one database: the reactors run on one of them (hot/cold), and another takes over within
                // about a second of its death.
                opts.Projections.LeadershipPollingTime = 1000;
                // One bad event (unreadable, of a type this version does not know, or one a projection cannot apply) must not
                // keep the ledger from starting: a rebuild skips it and keeps it as a dead letter, and LedgerUpgrade names it.
                opts.Projections.RebuildErrors.SkipApplyErrors = true;
                opts.Projections.RebuildErrors.SkipSerializationErrors = true;
                opts.Projections.RebuildErrors.SkipUnknownEvents = true;
                LedgerProjections.Register(opts);
                opts.Schema.For<StudySummaryView>().Identity(v => v.Id);
                opts.Schema.For<TrialView>().Identity(v => v.TrialId).Duplicate(v => v.StudyId).Duplicate(v => v.Status);
                opts.Schema.For<StudyLawsView>().Identity(v => v.Id);
                opts.Schema.For<PredictionView>().Identity(v => v.Id).Duplicate(v => v.StudyId);
                opts.Schema.For<FitCredibilityView>().Identity(v => v.Id).Duplicate(v => v.StudyId).Duplicate(v => v.Credible);
                opts.Schema.For<CoordinateCheckView>().Identity(v => v.Id).Duplicate(v => v.StudyId);
                opts.Schema.For<LedgerVersion>().Identity(v => v.Id);
                opts.Schema.For<LedgerRebuild>().Identity(v => v.Id);
                opts.Schema.For<StudyChain>().Identity(v => v.Id);
                opts.Schema.For<LedgerChaining>().Identity(v => v.Id);
                opts.Schema.For<Access.ApiToken>().Identity(v => v.Id);
                opts.Schema.For<Provenance.TrustedLedger>().Identity(v => v.Id);
                opts.Schema.For<Outbox.TrialDispatch>().Identity(v => v.Id).Duplicate(v => v.StudyId);
                opts.Schema.For<Outbox.TrialLease>().Identity(v => v.Id);
                opts.Schema.For<Outbox.CoordinateCheckDispatch>().Identity(v => v.Id);
                opts.Schema.For<HealthProbe>().Identity(v => v.Id);
                opts.Schema.For<Domain.Laws.RefitTrouble>().Identity(v => v.Id).Duplicate(v => v.StudyId);
                return opts;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup()
            .AddAsyncDaemon(DaemonMode.HotCold)
            .AddSubscriptionWithServices<QuickLawReactor>(ServiceLifetime.Singleton, o =>
            {
                o.Name = QuickLawReactor.SubscriptionName;
                foreach (var type in LawReactor.EventTypes) o.IncludeType(type);
                o.Options.BatchSize = 1000;
            })
            .AddSubscriptionWithServices<SlowLawReactor>(ServiceLifetime.Singleton, o =>
            {
                o.Name = SlowLawReactor.SubscriptionName;
                foreach (var type in LawReactor.EventTypes) o.IncludeType(type);
                o.Options.BatchSize = 1000;
            });
        return services;
    }
}

/// <summary>Which version of the read side the stored documents were built by.</summary>
public sealed class LedgerVersion
{
    public string Id { get; set; } = LedgerUpgrade.VersionId;
    public int Version { get; set; }
    public DateTimeOffset RebuiltAt { get; set; }
    /// <summary>Events the last rebuild could not read or apply, skipped (the events stay stored, untouched).</summary>
    public List<SkippedEvent> Skipped { get; set; } = [];
}

/// <summary>An event a rebuild skipped: where it is and why. The event itself is never changed or removed.</summary>
public sealed record SkippedEvent(long Sequence, Guid? StreamId, string? Type, IReadOnlyList<string> Projections, string Error);

/// <summary>A rebuild under way: the projections rebuilt so far, so that a Server stopped in the middle goes on from there.</summary>
public sealed class LedgerRebuild
{
    public string Id { get; set; } = "read-model-rebuild";
    public int Target { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public List<string> Done { get; set; } = [];
}

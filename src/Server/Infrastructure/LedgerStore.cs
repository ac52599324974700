using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Aggregation;
using Marten.Events.Projections;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Laws;

namespace ScalingLedger.Server.Infrastructure;

// The read side, kept in step with each append in the same transaction (inline) by the pure folds of StudyProjection.
// Each projection names the event types it folds, so an append loads and rewrites only the documents those events touch:
// a checkpoint rewrites one trial's document, never the study's.

/// <summary>One study's summary (checkpoints never touch it).</summary>
public sealed class StudySummaryProjection : SingleStreamProjection<StudySummaryView, Guid>
{
    public StudySummaryProjection()
    {
        IncludeType<StudyDefined>();
        IncludeType<StudyImported>();
        IncludeType<StudyCancelled>();
        IncludeType<StudyCompleted>();
        IncludeType<TrialStarted>();
        IncludeType<TrialCompleted>();
        IncludeType<TrialDiverged>();
        IncludeType<TrialFailed>();
        IncludeType<TrialAttemptFailed>();
        IncludeType<TrialCancelled>();
        IncludeType<LawFitted>();
        IncludeType<PredictionIssued>();
        IncludeType<PredictionResolved>();
        IncludeType<CoordinateCheckRecorded>();
    }

    public override StudySummaryView? Evolve(StudySummaryView? snapshot, Guid id, IEvent e) =>
        snapshot is null && e.Data is not (StudyDefined or StudyImported) ? null : StudyProjection.ApplySummary(snapshot, e.Data, e.Sequence);
}

/// <summary>One document per trial, keyed by the trial's id.</summary>
public sealed class TrialViewProjection : MultiStreamProjection<TrialView, Guid>
{
    public TrialViewProjection()
    {
        Identities<StudyDefined>(e => e.Trials.Select(t => t.TrialId).ToList());
        Identities<StudyImported>(e => e.Runs.Select(r => r.TrialId).ToList());
        Identity<TrialStarted>(e => e.TrialId);
        Identity<LossCheckpointRecorded>(e => e.TrialId);
        Identity<TrialCompleted>(e => e.TrialId);
        Identity<TrialDiverged>(e => e.TrialId);
        Identity<TrialFailed>(e => e.TrialId);
        Identity<TrialAttemptFailed>(e => e.TrialId);
        Identity<TrialCancelled>(e => e.TrialId);
        IncludeType<StudyDefined>();
        IncludeType<StudyImported>();
        IncludeType<TrialStarted>();
        IncludeType<LossCheckpointRecorded>();
        IncludeType<TrialCompleted>();
        IncludeType<TrialDiverged>();
        IncludeType<TrialFailed>();
        IncludeType<TrialAttemptFailed>();
        IncludeType<TrialCancelled>();
    }

    public override TrialView? Evolve(TrialView? snapshot, Guid id, IEvent e) =>
        StudyProjection.ApplyTrial(snapshot, id, e.Data, e.Sequence) ?? snapshot;
}

/// <summary>One study's laws: the newest fit of each law and key.</summary>
public sealed class StudyLawsProjection : SingleStreamProjection<StudyLawsView, Guid>
{
    public StudyLawsProjection() => IncludeType<LawFitted>();

    public override StudyLawsView? Evolve(StudyLawsView? snapshot, Guid id, IEvent e) =>
        e.Data is LawFitted || snapshot is not null ? StudyProjection.ApplyLaws(snapshot, id, e.Data, e.Sequence) : null;
}

/// <summary>One document per prediction.</summary>
public sealed class PredictionViewProjection : MultiStreamProjection<PredictionView, Guid>
{
    public PredictionViewProjection()
    {
        Identity<PredictionIssued>(e => e.PredictionId);
        Identity<PredictionResolved>(e => e.PredictionId);
        IncludeType<PredictionIssued>();
        IncludeType<PredictionResolved>();
    }

    public override PredictionView? Evolve(PredictionView? snapshot, Guid id, IEvent e) =>
        StudyProjection.ApplyPrediction(snapshot, e.Data, e.Sequence) ?? snapshot;
}

/// <summary>
/// One small document per fit: whether it is credible and why not (<see cref="Domain.Laws.CredibilityRule"/>). Pages read
/// only the not-credible ones of a study, to set their predictions aside.
/// </summary>
public sealed class FitCredibilityProjection : MultiStreamProjection<FitCredibilityView, Guid>
{
    public FitCredibilityProjection()
    {
        Identity<LawFitted>(e => e.FitId);
        IncludeType<LawFitted>();
    }

    public override FitCredibilityView? Evolve(FitCredibilityView? snapshot, Guid id, IEvent e) =>
        e.Data is LawFitted fit ? StudyProjection.ApplyFitCredibility(fit, e.Sequence) : snapshot;
}

public static class LedgerStore
{
    public const string Schema = "ledger";

    /// <summary>
    /// The version of the stored read side. A ledger whose documents were made by another version (or by none) has them
    /// rebuilt from its events on start (see <see cref="LedgerUpgrade"/>): events are the record, documents are derived.
    /// </summary>
    public const int ReadModelVersion = 3;

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
                opts.Projections.Add<StudySummaryProjection>(ProjectionLifecycle.Inline);
                opts.Projections.Add<TrialViewProjection>(ProjectionLifecycle.Inline);
                opts.Projections.Add<StudyLawsProjection>(ProjectionLifecycle.Inline);
                opts.Projections.Add<PredictionViewProjection>(ProjectionLifecycle.Inline);
                opts.Projections.Add<FitCredibilityProjection>(ProjectionLifecycle.Inline);
                opts.Schema.For<StudySummaryView>().Identity(v => v.Id);
                opts.Schema.For<TrialView>().Identity(v => v.TrialId).Duplicate(v => v.StudyId).Duplicate(v => v.Status);
                opts.Schema.For<StudyLawsView>().Identity(v => v.Id);
                opts.Schema.For<PredictionView>().Identity(v => v.Id).Duplicate(v => v.StudyId);
                opts.Schema.For<FitCredibilityView>().Identity(v => v.Id).Duplicate(v => v.StudyId).Duplicate(v => v.Credible);
                opts.Schema.For<LedgerVersion>().Identity(v => v.Id);
                return opts;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup()
            .AddAsyncDaemon(DaemonMode.Solo)
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
    public string Id { get; set; } = "read-model";
    public int Version { get; set; }
    public DateTimeOffset RebuiltAt { get; set; }
}

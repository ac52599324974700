using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Aggregation;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Infrastructure;

/// <summary>Keeps the <see cref="StudyView"/> document in step with the study stream, in the same transaction.</summary>
public sealed class StudyViewProjection : SingleStreamProjection<StudyView, Guid>
{
    public override StudyView? Evolve(StudyView? snapshot, Guid id, IEvent e) =>
        StudyProjection.Apply(snapshot, e.Data, e.Sequence);
}

public static class LedgerStore
{
    public const string Schema = "ledger";

    public static IServiceCollection AddLedgerStore(this IServiceCollection services, Func<IServiceProvider, string> connectionString)
    {
        services.AddMarten(sp =>
            {
                var opts = new StoreOptions();
                opts.Connection(connectionString(sp));
                opts.DatabaseSchemaName = Schema;
                opts.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                opts.Events.StreamIdentity = StreamIdentity.AsGuid;
                // Rich appends assign sequences before projections run, so views know the sequence they saw.
                opts.Events.AppendMode = EventAppendMode.Rich;
                opts.Events.MetadataConfig.EnableAll();
                opts.Events.MetadataConfig.UserNameEnabled = true;
                opts.Projections.Add<StudyViewProjection>(ProjectionLifecycle.Inline);
                opts.Schema.For<StudyView>().Identity(v => v.Id);
                return opts;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup();
        return services;
    }
}

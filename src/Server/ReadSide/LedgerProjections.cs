using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten.Events.Aggregation;
using Marten.Events.Projections;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Store;

namespace ScalingLedger.Server.ReadSide;

// The read side, kept in step with each append in the same transaction (inline) by the pure folds of StudyProjection.
// Each projection names the event types it folds, so an append loads and rewrites only the documents those events touch:
// a checkpoint rewrites one trial's document, never the study's. The type lists derive from the events' vocabulary
// (Contracts/Reports.cs), never from a hand-written list: a new trial report is folded into its trial by being one.

/// <summary>Every projection of the ledger, in one list: the store registers them and the upgrade rebuilds them.</summary>
public static class LedgerProjections
{
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(StudySummaryProjection), typeof(TrialViewProjection), typeof(StudyLawsProjection), typeof(PredictionViewProjection),
        typeof(FitCredibilityProjection), typeof(CoordinateCheckProjection),
    ];

    /// <summary>Every event type of the study streams (the records of Contracts that are study events).</summary>
    public static IReadOnlyList<Type> StudyEventTypes { get; } = typeof(IStudyEvent).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IStudyEvent).IsAssignableFrom(t)).OrderBy(t => t.Name).ToList();

    /// <summary>The event types about one trial (its document folds them).</summary>
    public static IReadOnlyList<Type> TrialReportTypes { get; } = StudyEventTypes.Where(t => typeof(ITrialReport).IsAssignableFrom(t)).ToList();

    /// <summary>The event types that end a trial.</summary>
    public static IReadOnlyList<Type> TrialEndTypes { get; } = StudyEventTypes.Where(t => typeof(ITrialEnd).IsAssignableFrom(t)).ToList();

    /// <summary>
    /// Whether an event is about the study whose stream holds it. An event of one stream that claims another study (only a hand
    /// in the database could put one there: an import is refused it) changes no document.
    /// </summary>
    public static bool OfItsStream(IEvent e) => StudyProjection.Touches(e.StreamId, e.Data);

    /// <summary>Registers each projection, inline.</summary>
    public static void Register(Marten.StoreOptions options)
    {
        foreach (var type in All)
            options.Projections.Add((IProjectionSource<Marten.IDocumentOperations, Marten.IQuerySession>)Activator.CreateInstance(type)!,
                ProjectionLifecycle.Inline);
    }
}

/// <summary>One study's summary (checkpoints never touch it).</summary>
public sealed class StudySummaryProjection : SingleStreamProjection<StudySummaryView, Guid>
{
    public StudySummaryProjection()
    {
        foreach (var type in LedgerProjections.StudyEventTypes.Where(t => t != typeof(LossCheckpointRecorded))) IncludeType(type);
    }

    public override StudySummaryView? Evolve(StudySummaryView? snapshot, Guid id, IEvent e) =>
        (snapshot is null && e.Data is not (StudyDefined or StudyImported)) || !StudyProjection.Touches(id, e.Data)
            ? snapshot
            : StudyProjection.ApplySummary(snapshot, e.Data, LedgerSequence.Of(e));
}

/// <summary>One document per trial, keyed by the trial's id.</summary>
public sealed class TrialViewProjection : MultiStreamProjection<TrialView, Guid>
{
    public TrialViewProjection()
    {
        Identities<StudyDefined>(e => e.Trials.Select(t => t.TrialId).ToList());
        Identities<StudyImported>(e => e.Runs.Select(r => r.TrialId).ToList());
        Identities<StudyExtended>(e => e.Trials.Select(t => t.TrialId).ToList());
        Identity<ITrialReport>(e => e.TrialId);
        IncludeType<StudyDefined>();
        IncludeType<StudyImported>();
        IncludeType<StudyExtended>();
        foreach (var type in LedgerProjections.TrialReportTypes) IncludeType(type);
    }

    public override TrialView? Evolve(TrialView? snapshot, Guid id, IEvent e) =>
        LedgerProjections.OfItsStream(e) ? StudyProjection.ApplyTrial(snapshot, id, e.Data, LedgerSequence.Of(e)) ?? snapshot : snapshot;
}

/// <summary>One study's laws: the newest fit of each law and key.</summary>
public sealed class StudyLawsProjection : SingleStreamProjection<StudyLawsView, Guid>
{
    public StudyLawsProjection() => IncludeType<LawFitted>();

    public override StudyLawsView? Evolve(StudyLawsView? snapshot, Guid id, IEvent e) =>
        e.Data is LawFitted || snapshot is not null ? StudyProjection.ApplyLaws(snapshot, id, e.Data, LedgerSequence.Of(e)) : null;
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
        LedgerProjections.OfItsStream(e) ? StudyProjection.ApplyPrediction(snapshot, e.Data, LedgerSequence.Of(e)) ?? snapshot : snapshot;
}

/// <summary>
/// One small document per fit: whether it is credible and why not (<see cref="Domain.Claims.CredibilityRule"/>), judged once
/// here. Pages read only the not-credible ones of a study, to set their predictions aside.
/// </summary>
public sealed class FitCredibilityProjection : MultiStreamProjection<FitCredibilityView, Guid>
{
    public FitCredibilityProjection()
    {
        Identity<LawFitted>(e => e.FitId);
        IncludeType<LawFitted>();
    }

    public override FitCredibilityView? Evolve(FitCredibilityView? snapshot, Guid id, IEvent e) =>
        e.Data is LawFitted fit && LedgerProjections.OfItsStream(e) ? StudyProjection.ApplyFitCredibility(snapshot, fit, LedgerSequence.Of(e)) : snapshot;
}

/// <summary>One document per coordinate check.</summary>
public sealed class CoordinateCheckProjection : MultiStreamProjection<CoordinateCheckView, Guid>
{
    public CoordinateCheckProjection()
    {
        Identity<CoordinateCheckRequested>(e => e.CheckId);
        Identity<CoordinateCheckRecorded>(e => e.CheckId);
        Identity<CoordinateCheckFailed>(e => e.CheckId);
        IncludeType<CoordinateCheckRequested>();
        IncludeType<CoordinateCheckRecorded>();
        IncludeType<CoordinateCheckFailed>();
    }

    public override CoordinateCheckView? Evolve(CoordinateCheckView? snapshot, Guid id, IEvent e) =>
        LedgerProjections.OfItsStream(e) ? StudyProjection.ApplyCoordinateCheck(snapshot, e.Data, LedgerSequence.Of(e)) ?? snapshot : snapshot;
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// What the reactor reads of a study to decide what new evidence means: its summary, its trials (checkpoints are not
/// needed), its newest fits (with their whole evidence) and its open predictions, all as of <paramref name="Sequence"/>: the
/// newest sequence of the study's history (what its fits record as their evidence sequence and resolutions as observed at).
/// </summary>
public sealed record EvidenceState(
    StudySummaryView Summary, IReadOnlyList<TrialView> Trials, IReadOnlyList<LawFitted> LatestFits, IReadOnlyList<PredictionView> OpenPredictions,
    RecordedSequence Sequence);

/// <summary>"Evidence arrived": the reactor's decision, pure. The Server runs it beside the report path.</summary>
public static class EvidenceDecider
{
    /// <summary>
    /// In this order: the open predictions the evidence now resolves; a fit of every law whose evidence changed (only
    /// those are fitted), each naming its evidence by reference to the law's previous fit; the predictions of those fits;
    /// and StudyCompleted when every trial has ended and every law is fitted to the final evidence. Deciding again on the
    /// same state after recording the result decides nothing (idempotent per evidence state).
    /// </summary>
    /// <param name="laws">Only these laws (null: all). The reactor fits the quick laws apart from the slow ones (power
    /// laws, seconds on real losses), so that what new evidence says about the quick ones never waits for the slow.
    /// Each resolves the open predictions of its own laws, so no prediction is resolved twice.</param>
    public static IReadOnlyList<object> Decide(EvidenceState state, Func<Guid> newId, DateTimeOffset now, FitOptions? options = null,
        Func<Law, bool>? laws = null)
    {
        options ??= new FitOptions();
        var registry = options.Registry;
        var study = state.Summary;
        var events = new List<object>();
        events.AddRange(PredictionDecisions.Resolve(study.Id, state.Trials,
            state.OpenPredictions.Where(p => laws is null || registry.Find(p.Issued.Law) is not { } law || laws(law)), state.Sequence.Value, now, registry));
        var results = LawEngine.NewFits(state.Trials, study.Spec, state.LatestFits, options, laws);
        var fits = results
            .Select(f => LawEngine.ToEvent(study.Id, f, newId(), state.Sequence.Value, now,
                state.LatestFits.FirstOrDefault(l => l.Law == f.Law && l.Key == f.Key)))
            .ToList();
        events.AddRange(fits);
        events.AddRange(PredictionDecisions.Issue(study.Id, state.Trials, fits, state.LatestFits, newId, now, registry));
        var latest = state.LatestFits.Where(l => !results.Any(f => f.Law == l.Law && f.Key == l.Key))
            .Concat(results.Select(f => LawEngine.ToEvent(study.Id, f, Guid.Empty, state.Sequence.Value, now, null))).ToList();
        events.AddRange(DecideCompletion(state with { LatestFits = latest }, now, options));
        return events;
    }

    /// <summary>
    /// StudyCompleted when every trial has ended and no law of the study waits for its final fit. The reactors (one per
    /// kind of law) each ask again after recording their fits, so whichever records last completes the study.
    /// </summary>
    public static IReadOnlyList<object> DecideCompletion(EvidenceState state, DateTimeOffset now, FitOptions? options = null) =>
        state.Trials.All(t => t.IsTerminal) && LawEngine.Pending(state.Trials, state.Summary.Spec, state.LatestFits, options).Count == 0
            ? StudyDecisions.DecideCompletion(state.Summary, 0, state.Trials.Count, now)
            : [];
}

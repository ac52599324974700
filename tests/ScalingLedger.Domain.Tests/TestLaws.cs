using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// What the tests ask of whole studies folded in memory: the production code decides from slim state (a summary, the trials
/// a decision reads), the tests from the assembled view. These adapters live here, not in production.
/// </summary>
internal static class TestLaws
{
    public static IReadOnlyList<LawFitted> FitAll(StudyView study, FitOptions? options = null) => LawEngine.FitAll(study.Trials, study.Spec, options);

    public static IReadOnlyList<LawFitted> NewFits(StudyView study, FitOptions? options = null) =>
        LawEngine.NewFits(study.Trials, study.Spec, study.LatestFits, options);

    /// <summary>One law's fits over these trials (each key), in the registry's way; the single fit of a law with one key.</summary>
    public static IReadOnlyList<LawFitted> Fits(string law, IEnumerable<TrialView> trials, FitOptions? options = null)
    {
        var list = trials.ToList();
        return LawEngine.Candidates(list, null, options).Where(c => c.Law == law).Select(c => c.Fit()).ToList();
    }

    public static LawFitted? Fit(string law, IEnumerable<TrialView> trials, FitOptions? options = null) => Fits(law, trials, options).SingleOrDefault();

    public static LawFitted? OptimalLr(IEnumerable<TrialView> trials, FitOptions? options = null) => Fit(OptimalLrLaw.LawName, trials, options);

    public static LawFitted? TunedFrontierPower(IEnumerable<TrialView> trials, FitOptions? options = null) =>
        Fit(TunedFrontierPowerLaw.LawName, trials, options);

    public static IReadOnlyList<LawFitted> FixedLrLogLinear(IEnumerable<TrialView> trials, FitOptions? options = null) =>
        Fits(FixedLrLogLinearLaw.LawName, trials, options);

    public static IReadOnlyList<LawFitted> FixedLrPower(IEnumerable<TrialView> trials, FitOptions? options = null) =>
        Fits(FixedLrPowerLaw.LawName, trials, options);

    public static LawFitted? ChinchillaOf(IEnumerable<TrialView> trials, FitOptions? options = null) => Fit(ChinchillaStudyLaw.LawName, trials, options);

    /// <summary>The law's point value at <paramref name="width"/> from a fit's parameters; null when it did not converge.</summary>
    public static double? Evaluate(LawFitted fit, double width) => Evaluate(fit, new LawPoint(width));

    public static double? Evaluate(LawFitted fit, LawPoint point) =>
        fit.Converged ? LawRegistry.Default.Find(fit.Law)?.Evaluate(fit.Parameters, point) : null;

    /// <summary>Every converged law's prediction at <paramref name="widths"/>, from a fresh fit of the study.</summary>
    public static IReadOnlyList<(string Law, string Key, double Width, double Value, double? Lower, double? Upper)> Predict(
        StudyView study, IReadOnlyList<double> widths, FitOptions? options = null) =>
        FitAll(study, (options ?? new FitOptions()) with { PredictAt = widths })
            .Where(f => f.Converged)
            .SelectMany(f => (f.Predictions ?? []).Where(p => p.LearningRate is null).Select(p => (f.Law, f.Key, p.X, p.Value, p.Lower, p.Upper)))
            .ToList();

    public static EvidenceState EvidenceOf(StudyView study) =>
        new(study, study.Trials, study.LatestFits, study.Predictions.Where(p => p.Resolution is null).ToList(),
            new RecordedSequence(study.LastSequence));

    public static IReadOnlyList<PredictionIssued> Issue(StudyView study, IEnumerable<LawFitted> fits, Func<Guid> newId, DateTimeOffset now) =>
        PredictionDecisions.Issue(study.Id, study.Trials, fits, study.LatestFits, newId, now);

    public static IReadOnlyList<PredictionResolved> Resolve(StudyView study, DateTimeOffset now) =>
        PredictionDecisions.Resolve(study.Id, study.Trials, study.Predictions, study.LastSequence, now);

    public static Observation? Observe(StudyView study, string law, string key, double width) =>
        PredictionDecisions.Observe(study.Trials, law, key, new LawPoint(width));

    public static IReadOnlyList<object> DecideReport(StudyView study, object report) =>
        StudyDecisions.DecideReport(study, StudyDecisions.TrialIdOf(report) is { } id ? study.Trial(id) : null, report);

    public static IReadOnlyList<object> DecideCancel(StudyView study, string by, string? reason, DateTimeOffset now) =>
        StudyDecisions.DecideCancel(study, study.Trials, by, reason, now);

    public static IReadOnlyList<object> DecideCompletion(StudyView study, DateTimeOffset now) =>
        StudyDecisions.DecideCompletion(study, study.Trials.Count(t => !t.IsTerminal), study.Trials.Count, now);

    /// <summary>The trials the ledger owes the trainers (the reconciler sends these), in planned order.</summary>
    public static IReadOnlyList<TrialView> TrialsToDispatch(StudyView study) =>
        study.Trials.Where(t => TrialRuns.Owed(study, t) is not null).OrderBy(t => t.Order).ToList();
}

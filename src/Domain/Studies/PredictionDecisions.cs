using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Studies;

/// <summary>What a study observed at one point a law predicts, and which trials say so.</summary>
/// <param name="Value">The observed value; null when every trial there diverged.</param>
/// <param name="Value">The value observed; null when every trial diverged. For a censored observation, the value the
/// grid shows (its best rate, or the loss there), which bounds the true one.</param>
/// <param name="AtLeast">Censored: the true value is known only to be at least this (null: no bound below).</param>
/// <param name="AtMost">Censored: the true value is known only to be at most this (null: no bound above).</param>
/// <param name="Censoring">Why the observation is censored (null when it is not).</param>
public sealed record Observation(double? Value, IReadOnlyList<Guid> TrialIds, double? AtLeast = null, double? AtMost = null, string? Censoring = null)
{
    /// <summary>The observation is a range, not a value (<see cref="Censoring"/> says why).</summary>
    public bool IsCensored => Censoring is not null;

    /// <summary>
    /// One (width, rate) cell once all its trials ended: the mean final loss of its completed trials, or, when none
    /// completed and some diverged, a divergence (no value); null while a trial runs or when nothing there has a result.
    /// </summary>
    public static Observation? OfCell(IReadOnlyList<TrialView> cell)
    {
        if (cell.Count == 0 || cell.Any(t => !t.IsTerminal)) return null;
        // In seed order: the mean is the same number whatever order the trials come in (fits are checked against it).
        var completed = cell.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l))
            .OrderBy(t => t.Seed).ThenBy(t => t.TrialId).ToList();
        if (completed.Count > 0) return new Observation(completed.Average(t => t.FinalEvalLoss!.Value), completed.Select(t => t.TrialId).ToList());
        var diverged = cell.Where(t => t.Status == TrialStatus.Diverged).ToList();
        return diverged.Count > 0 ? new Observation(null, diverged.Select(t => t.TrialId).ToList()) : null;
    }
}

/// <summary>Pure decisions about predictions: which to issue for new fits, which are resolved by what was observed.</summary>
public static class PredictionDecisions
{
    /// <summary>
    /// The observation at <paramref name="point"/> of a law's key (see <see cref="Law.Observe"/>), or null while it is not
    /// observed yet.
    /// </summary>
    public static Observation? Observe(IReadOnlyList<TrialView> trials, string law, string key, LawPoint point, LawRegistry? laws = null) =>
        Observe(ByWidth(trials), law, key, point, laws ?? LawRegistry.Default);

    private static Observation? Observe(ILookup<int, TrialView> byWidth, string law, string key, LawPoint point, LawRegistry laws)
    {
        var width = point.Width;
        if (width != Math.Floor(width) || width < 1 || width > int.MaxValue) return null;
        return laws.Find(law)?.Observe(byWidth[(int)width].ToList(), key, point);
    }

    /// <summary>The trials by width, looked up once per decision (a study has thousands of trials and open predictions).</summary>
    private static ILookup<int, TrialView> ByWidth(IReadOnlyList<TrialView> trials) => trials.ToLookup(t => t.Width);

    /// <summary>The point a prediction claims: its width and, for a law of the rate too, the rate.</summary>
    public static LawPoint PointOf(PredictionIssued issued) => new(issued.Width, issued.AtLearningRate);

    /// <summary>
    /// Predictions for freshly recorded fits: every prediction with an interval at a point the study has not observed yet
    /// for that law (planned widths still running, and target widths). Each names its fit, which names the evidence.
    /// </summary>
    /// <param name="latestFits">The study's newest fits before these (for the optimal-LR law a frontier claim is about).</param>
    public static IReadOnlyList<PredictionIssued> Issue(Guid studyId, IReadOnlyList<TrialView> trials, IEnumerable<LawFitted> fits,
        IEnumerable<LawFitted> latestFits, Func<Guid> newId, DateTimeOffset now, LawRegistry? laws = null)
    {
        laws ??= LawRegistry.Default;
        var fitList = fits.ToList();
        var byWidth = ByWidth(trials);
        var planned = trials.Select(t => (double)t.Width).ToHashSet();
        var lrLaw = fitList.Concat(latestFits).FirstOrDefault(f => f.Law == OptimalLrLaw.LawName && f.Converged);
        var issued = new List<PredictionIssued>();
        foreach (var fit in fitList.Where(f => f.Converged && HasUncertainty(f, laws)))
        {
            if (laws.Find(fit.Law) is not { PredictsWidths: true } law) continue;
            foreach (var p in fit.Predictions ?? [])
            {
                if (p.Lower is not { } lower || p.Upper is not { } upper || !double.IsFinite(p.Value) || !(upper > lower)) continue;
                var point = new LawPoint(p.X, p.LearningRate);
                // A width the fit already used (a cell with some seeds finished) is not a prediction of the unseen.
                if (Observe(byWidth, fit.Law, fit.Key, point, laws) is not null || fit.Points.Any(q => q.X == p.X)) continue;
                // A claim at a rate the width does not train (an extension trains some rates) would never be observed.
                if (planned.Contains(p.X) && (p.LearningRate ?? LawKeys.RateOf(fit.Key)) is { } cellRate
                    && !byWidth[(int)p.X].Any(t => t.LearningRate == cellRate)) continue;
                issued.Add(new PredictionIssued(studyId, newId(), fit.FitId, fit.Law, fit.Key, p.X, law.LearningRateAt(fit, point, lrLaw),
                    p.Value, lower, upper, planned.Contains(p.X) ? "planned" : "target", fit.EvidenceSequence, [], fit.FitterVersion, now,
                    p.LearningRate, p.BootstrapLower, p.BootstrapUpper));
            }
        }
        return issued;
    }

    /// <summary>Every open prediction whose point has now been observed, resolved against the observation.</summary>
    /// <param name="sequence">The sequence of the evidence the observations come from.</param>
    public static IReadOnlyList<PredictionResolved> Resolve(Guid studyId, IReadOnlyList<TrialView> trials, IEnumerable<PredictionView> open,
        long sequence, DateTimeOffset now, LawRegistry? laws = null)
    {
        laws ??= LawRegistry.Default;
        var resolved = new List<PredictionResolved>();
        var byWidth = ByWidth(trials);
        // Many open predictions claim the same point (each refit predicts the widths still unseen): observe each point once.
        var observations = new Dictionary<(string, string, LawPoint), Observation?>();
        foreach (var prediction in open.Where(p => p.Resolution is null))
        {
            var issued = prediction.Issued;
            var point = (issued.Law, issued.Key, PointOf(issued));
            if (!observations.TryGetValue(point, out var seen)) observations[point] = seen = Observe(byWidth, issued.Law, issued.Key, point.Item3, laws);
            if (seen is not { } observation) continue;
            if (observation.Value is not { } value)
            {
                resolved.Add(new PredictionResolved(studyId, issued.PredictionId, null, null, null, false,
                    "every trial at this point diverged: the rate is too high for this width", observation.TrialIds, sequence, now));
                continue;
            }
            if (observation.IsCensored)
            {
                resolved.Add(PredictionResolution.ResolveCensored(studyId, issued, observation, value, sequence, now));
                continue;
            }
            var r = PredictionResolution.Resolve(issued.Predicted, issued.Lower, issued.Upper, value);
            bool? insideBootstrap = issued is { BootstrapLower: { } bl, BootstrapUpper: { } bu } ? value >= bl && value <= bu : null;
            resolved.Add(new PredictionResolved(studyId, issued.PredictionId, value, r.Residual, double.IsFinite(r.ZScore) ? r.ZScore : null,
                r.Inside, r.Inside ? null : "outside the 95% interval: a deviation to investigate (mis-tuning, or the law stops holding)",
                observation.TrialIds, sequence, now, insideBootstrap));
        }
        return resolved;
    }

    /// <summary>
    /// Whether the fit's bootstrap can say anything about its uncertainty: resampling seeds always can; resampling points
    /// needs more points than the law has parameters (two points on a line resample to the same line or to nothing,
    /// a zero-width interval that every observation would "miss").
    /// </summary>
    public static bool HasUncertainty(LawFitted fit, LawRegistry? laws = null) =>
        fit.Method.Contains(LawFitting.SeedsMethod, StringComparison.Ordinal)
        || fit.Points.Count > ((laws ?? LawRegistry.Default).Find(fit.Law)?.ParameterCount ?? 2);
}

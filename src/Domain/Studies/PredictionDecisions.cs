using System.Globalization;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Studies;

/// <summary>What a study observed at one point a law predicts, and which trials say so.</summary>
/// <param name="Value">The observed value; null when every trial there diverged.</param>
public sealed record Observation(double? Value, IReadOnlyList<Guid> TrialIds);

/// <summary>Pure decisions about predictions: which to issue for new fits, which are resolved by what was observed.</summary>
public static class PredictionDecisions
{
    /// <summary>
    /// The observation at <paramref name="width"/> for a law's key, or null while it is not observed yet.
    /// Fixed-LR laws: every trial at (width, rate) ended; the mean final loss of the completed ones (null value when all
    /// diverged). Tuned frontier and optimal LR: every trial at the width ended; the best mean loss, or the refined best rate.
    /// </summary>
    public static Observation? Observe(StudyView study, string law, string key, double width)
    {
        if (width != Math.Floor(width) || width < 1 || width > int.MaxValue) return null;
        var w = (int)width;
        var atWidth = study.Trials.Where(t => t.Width == w).ToList();
        switch (law)
        {
            case LawNames.FixedLrLogLinear or LawNames.FixedLrPower:
                if (RateOf(key) is not { } rate) return null;
                var cell = atWidth.Where(t => t.LearningRate == rate).ToList();
                if (cell.Count == 0 || cell.Any(t => !t.IsTerminal)) return null;
                var completed = cell.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l)).ToList();
                if (completed.Count > 0) return new Observation(completed.Average(t => t.FinalEvalLoss!.Value), completed.Select(t => t.TrialId).ToList());
                var diverged = cell.Where(t => t.Status == TrialStatus.Diverged).ToList();
                return diverged.Count > 0 ? new Observation(null, diverged.Select(t => t.TrialId).ToList()) : null;
            case LawNames.TunedFrontierPower or LawNames.OptimalLr:
                if (atWidth.Count == 0 || atWidth.Any(t => !t.IsTerminal)) return null;
                var optimum = OptimalLearningRate.PerWidth(atWidth).SingleOrDefault();
                if (optimum is null) return null;
                return new Observation(law == LawNames.OptimalLr ? optimum.RefinedLearningRate : optimum.MeanLoss, optimum.EvidenceTrialIds);
            default:
                return null;
        }
    }

    /// <summary>
    /// Predictions for freshly recorded fits: every prediction with an interval at a width the study has not observed
    /// yet for that law (planned widths still running, and target widths).
    /// </summary>
    public static IReadOnlyList<PredictionIssued> Issue(StudyView study, IEnumerable<LawFitted> fits, Func<Guid> newId, DateTimeOffset now)
    {
        var planned = study.Trials.Select(t => (double)t.Width).ToHashSet();
        var lrLaw = fits.Concat(study.LatestFits).FirstOrDefault(f => f.Law == LawNames.OptimalLr && f.Converged);
        var issued = new List<PredictionIssued>();
        foreach (var fit in fits.Where(f => f.Converged && f.Law != LawNames.Chinchilla && HasUncertainty(f)))
        {
            foreach (var p in fit.Predictions ?? [])
            {
                if (p.Lower is not { } lower || p.Upper is not { } upper || !double.IsFinite(p.Value) || !(upper > lower)) continue;
                // A width the fit already used (a cell with some seeds finished) is not a prediction of the unseen.
                if (Observe(study, fit.Law, fit.Key, p.X) is not null || fit.Points.Any(q => q.X == p.X)) continue;
                double? rate = fit.Law switch
                {
                    LawNames.FixedLrLogLinear or LawNames.FixedLrPower => RateOf(fit.Key),
                    LawNames.TunedFrontierPower when lrLaw is not null =>
                        Math.Exp(lrLaw.Parameters["c"] + lrLaw.Parameters["d"] * Math.Log(p.X)),
                    _ => null,
                };
                issued.Add(new PredictionIssued(study.Id, newId(), fit.FitId, fit.Law, fit.Key, p.X, rate, p.Value, lower, upper,
                    planned.Contains(p.X) ? "planned" : "target", fit.EvidenceSequence, fit.EvidenceTrialIds, fit.FitterVersion, now));
            }
        }
        return issued;
    }

    /// <summary>Every open prediction whose point has now been observed, resolved against the observation.</summary>
    public static IReadOnlyList<PredictionResolved> Resolve(StudyView study, DateTimeOffset now)
    {
        var resolved = new List<PredictionResolved>();
        foreach (var prediction in study.Predictions.Where(p => p.Resolution is null))
        {
            var issued = prediction.Issued;
            if (Observe(study, issued.Law, issued.Key, issued.Width) is not { } observation) continue;
            if (observation.Value is not { } value)
            {
                resolved.Add(new PredictionResolved(study.Id, issued.PredictionId, null, null, null, false,
                    "every trial at this point diverged: the rate is too high for this width", observation.TrialIds, study.LastSequence, now));
                continue;
            }
            var r = PredictionResolution.Resolve(issued.Predicted, issued.Lower, issued.Upper, value);
            resolved.Add(new PredictionResolved(study.Id, issued.PredictionId, value, r.Residual, double.IsFinite(r.ZScore) ? r.ZScore : null,
                r.Inside, r.Inside ? null : "outside the 95% interval: a deviation to investigate (mis-tuning, or the law stops holding)",
                observation.TrialIds, study.LastSequence, now));
        }
        return resolved;
    }

    /// <summary>
    /// Whether the fit's bootstrap can say anything about its uncertainty: resampling seeds always can; resampling points
    /// needs more points than the law has parameters (two points on a line resample to the same line or to nothing,
    /// a zero-width interval that every observation would "miss").
    /// </summary>
    public static bool HasUncertainty(LawFitted fit) =>
        fit.Method.Contains("bootstrap-seeds", StringComparison.Ordinal) || fit.Points.Count > ParameterCount(fit.Law);

    private static int ParameterCount(string law) => law switch
    {
        LawNames.FixedLrPower or LawNames.TunedFrontierPower => PowerLaw.ParameterCount,
        LawNames.Chinchilla => ChinchillaLaw.ParameterCount,
        _ => 2,
    };

    private static double? RateOf(string key) =>
        key.StartsWith("lr=", StringComparison.Ordinal)
        && double.TryParse(key.AsSpan(3), NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) ? rate : null;
}

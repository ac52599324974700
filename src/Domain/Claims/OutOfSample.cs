using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Claims;

/// <summary>
/// How far a law missed the widths it had not seen, measured in the study itself (leave-future-out): for each width the
/// fit used but its widest, the law refitted on the widths up to it (point estimate, no bootstrap) predicts each wider
/// width the fit used, and the study's observation there is the answer. This is what a bootstrap over seeds cannot see:
/// whether the law's form holds as width grows (a line in log-log through optima that bend misses every wider width on the
/// same side). Any law can be checked so, through its own candidates and observations.
/// </summary>
public static class OutOfSample
{
    /// <summary>The residuals of <paramref name="law"/>'s fit for <paramref name="key"/> whose points are <paramref name="points"/>.</summary>
    public static IReadOnlyList<OutOfSampleResidual> Residuals(Law law, string key, IReadOnlyList<FitPoint> points, IReadOnlyList<TrialView> trials,
        FitOptions options)
    {
        var widths = points.Select(p => p.X).Where(x => x >= 1).Distinct().Order().ToList();
        var residuals = new List<OutOfSampleResidual>();
        var byWidth = trials.ToLookup(t => t.Width);
        for (var k = 0; k < widths.Count - 1; k++)
        {
            var upTo = widths[k];
            var later = widths.Skip(k + 1).ToList();
            var seen = trials.Where(t => t.Width <= upTo).ToList();
            var sub = options with { Bootstrap = new BootstrapOptions(0), PredictAt = later };
            if (law.Candidates(seen, sub).FirstOrDefault(c => c.Key == key)?.Fit() is not { Converged: true } fit) continue;
            foreach (var p in fit.Predictions ?? [])
            {
                if (!later.Contains(p.X) || !(p.Value > 0) || p.X != Math.Floor(p.X)) continue;
                // A censored width (its optimum bounded, not pinned down) is no miss to measure: the methods use bracketed widths alone.
                if (law.Observe(byWidth[(int)p.X].ToList(), key, new LawPoint(p.X, p.LearningRate))
                    is not { Value: { } observed, IsCensored: false } || !(observed > 0))
                    continue;
                residuals.Add(new OutOfSampleResidual(upTo, p.X, p.LearningRate, p.Value, observed));
            }
        }
        return residuals;
    }

    /// <summary>A residual in log space: ln(observed / predicted).</summary>
    public static double LogResidual(OutOfSampleResidual r) => Math.Log(r.Observed / r.Predicted);

    /// <summary>How far the prediction reached beyond the widths its fit saw, in doublings of width.</summary>
    public static double Reach(OutOfSampleResidual r) => Math.Max(0, Math.Log2(r.Width / r.FittedUpTo));
}

using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Claims;

/// <summary>
/// How noisy one observation at a width is, in ln, from the widths already seen (fitter 3.1.0): the floor under a claim's
/// interval, which a law's few lucky misses out of sample must not shrink below. See <see cref="Law.ObservationSpread"/>.
/// </summary>
public static class ObservationNoise
{
    /// <summary>
    /// The standard deviation of a cell's mean ln(final loss): the sample variance of ln(loss) between the completed seeds of
    /// each (width, rate) cell with two or more, pooled (mean), divided by the seeds a cell holds; null when no cell has two
    /// or every cell's seeds agree exactly.
    /// </summary>
    public static double? OfCellMeans(IReadOnlyList<TrialView> evidence)
    {
        var cells = evidence.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is > 0)
            .GroupBy(t => (t.Width, t.LearningRate))
            // In one order whatever the trials' order: the same evidence gives the same numbers, to the last bit.
            .OrderBy(g => g.Key.Width).ThenBy(g => g.Key.LearningRate)
            .Select(g => g.OrderBy(t => t.Seed).ThenBy(t => t.TrialId).Select(t => Math.Log(t.FinalEvalLoss!.Value)).ToList())
            .Where(c => c.Count >= 2).ToList();
        if (cells.Count == 0) return null;
        return Spread(cells.Average(c => Variance(c) / c.Count));
    }

    /// <summary>
    /// The standard deviation of an observed optimum: per width, each seed's own refined optimum (<paramref name="observed"/>
    /// of it, in ln; a seed's valley is its own trials, a rate without its result a hole), their sample variance divided by
    /// the seeds, pooled over the widths where two or more seeds give a refined one (a seed whose best rate is at the edge or
    /// kept unrefined, beside a hole or a divergence, says nothing of the spread and is left out); null where no width has
    /// two, or where they agree exactly (a spread of 0 would narrow the interval, not floor it). A refined optimum's error
    /// below the grid's resolution is in it, as far as the seeds' valleys differ. (An error uniform over a grid step,
    /// (ln step)^2 / 12, was tried as a further floor: on generated sweeps at the recordings' noise it tripled the intervals
    /// one doubling ahead that held without it; see docs/science.md.)
    /// </summary>
    public static double? OfOptima(IReadOnlyList<TrialView> evidence, Func<WidthOptimum, double> observed)
    {
        var noise = new List<double>();
        foreach (var width in evidence.Where(t => t.Width >= 1).GroupBy(t => t.Width).OrderBy(g => g.Key))
        {
            // Every seed's valley over the width's whole grid of rates: a rate without this seed's result is a hole (NaN).
            var rates = width.Select(t => t.LearningRate).Distinct().Order().ToArray();
            var perSeed = new List<double>();
            foreach (var seed in width.Select(t => t.Seed).Distinct().Order())
            {
                var losses = rates.Select(lr => width.Where(t => t.Seed == seed && t.LearningRate == lr && t.Status is TrialStatus.Completed or
                    TrialStatus.Diverged).Select(OptimalLearningRate.Loss).DefaultIfEmpty(double.NaN).Min()).ToArray();
                if (OptimalLearningRate.Refine(rates, losses) is not { AtGridEdge: false, Refinement: null } best) continue;
                var value = observed(new WidthOptimum(width.Key, best.LearningRate, best.MeanLoss, false, [], best.RefinedLearningRate,
                    best.Refinement, best.RefinedLoss));
                if (value > 0) perSeed.Add(Math.Log(value));
            }
            if (perSeed.Count >= 2) noise.Add(Variance(perSeed) / perSeed.Count);
        }
        return noise.Count == 0 ? null : Spread(noise.Average());
    }

    /// <summary>Seeds that agree to rounding (a spread below 1e-9 in ln) tell no spread: null, not a floor of 0.</summary>
    private static double? Spread(double variance) => variance > 1e-18 ? Math.Sqrt(variance) : null;

    private static double Variance(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        return values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
    }
}

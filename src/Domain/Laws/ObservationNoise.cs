using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// How noisy one observation at a width is, in ln, from the widths already seen (fitter 3.1.0): the floor under a claim's
/// interval, which a law's few lucky misses out of sample must not shrink below. See <see cref="Law.ObservationSpread"/>.
/// </summary>
public static class ObservationNoise
{
    /// <summary>
    /// The standard deviation of a cell's mean ln(final loss): the sample variance of ln(loss) between the completed seeds of
    /// each (width, rate) cell with two or more, pooled (mean), divided by the seeds a cell holds; null when no cell has two.
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
        return Math.Sqrt(cells.Average(c => Variance(c) / c.Count));
    }

    /// <summary>
    /// The standard deviation of an observed optimum: per width, each seed's own refined optimum (<paramref name="observed"/>
    /// of it, in ln), their sample variance divided by the seeds, pooled over the widths where two or more seeds give one;
    /// null where none does. A refined optimum's error below the grid's resolution is in it, as far as the seeds' valleys
    /// differ. (An error uniform over a grid step, (ln step)^2 / 12, was tried as a further floor: on generated sweeps at the
    /// recordings' noise it tripled the intervals one doubling ahead that held without it; see docs/science.md.)
    /// </summary>
    internal static double? OfOptima(IReadOnlyList<WidthGrid> grids, Func<WidthOptimum, double> observed)
    {
        var noise = new List<double>();
        foreach (var grid in grids)
        {
            var seeds = grid.Outcomes.Select(o => o.Length).DefaultIfEmpty(0).Min();
            var perSeed = new List<double>();
            for (var s = 0; s < seeds; s++)
                if (OptimalLearningRate.Refine(grid.Rates, grid.Outcomes.Select(o => o[s]).ToArray()) is { AtGridEdge: false } best)
                {
                    var value = observed(new WidthOptimum(grid.Width, best.LearningRate, best.MeanLoss, false, [], best.RefinedLearningRate,
                        best.Refinement, best.RefinedLoss));
                    if (value > 0) perSeed.Add(Math.Log(value));
                }
            if (perSeed.Count >= 2) noise.Add(Variance(perSeed) / perSeed.Count);
        }
        return noise.Count == 0 ? null : Math.Sqrt(noise.Average());
    }

    private static double Variance(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        return values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
    }
}

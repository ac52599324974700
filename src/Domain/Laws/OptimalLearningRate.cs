using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>The best grid learning rate at one width.</summary>
/// <param name="AtGridEdge">The best rate is the smallest or largest of the grid, so the optimum is not bracketed.</param>
public sealed record WidthOptimum(int Width, double LearningRate, double MeanLoss, bool AtGridEdge, IReadOnlyList<Guid> EvidenceTrialIds);

public static class OptimalLearningRate
{
    /// <summary>
    /// For each width whose trials have all ended: the learning rate with the lowest final eval loss averaged
    /// over seeds. A diverged trial counts as an infinite loss (its rate is too high), a failed or cancelled
    /// one as missing. Widths with no finite mean are left out.
    /// </summary>
    public static IReadOnlyList<WidthOptimum> PerWidth(IEnumerable<TrialView> trials)
    {
        var result = new List<WidthOptimum>();
        foreach (var byWidth in trials.GroupBy(t => t.Width).OrderBy(g => g.Key))
        {
            if (byWidth.Any(t => t.Status is TrialStatus.Scheduled or TrialStatus.Running)) continue;
            var grid = byWidth.Select(t => t.LearningRate).Distinct().Order().ToArray();
            var means = byWidth
                .Where(t => t.Status is TrialStatus.Completed or TrialStatus.Diverged)
                .GroupBy(t => t.LearningRate)
                .Select(g => (Lr: g.Key, Mean: g.Average(Loss), Trials: g.ToList()))
                .Where(m => double.IsFinite(m.Mean))
                .ToList();
            if (means.Count == 0) continue;
            var best = means.MinBy(m => m.Mean);
            var evidence = byWidth.Where(t => t.Status is TrialStatus.Completed or TrialStatus.Diverged)
                .OrderBy(t => t.Order).Select(t => t.TrialId).ToList();
            var edge = grid.Length > 1 && (best.Lr == grid[0] || best.Lr == grid[^1]);
            result.Add(new WidthOptimum(byWidth.Key, best.Lr, best.Mean, edge, evidence));
        }
        return result;
    }

    private static double Loss(TrialView t) =>
        t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l) ? l : double.PositiveInfinity;
}

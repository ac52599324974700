using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>The best grid learning rate at one width, and its refinement below grid resolution.</summary>
/// <param name="AtGridEdge">The best rate is the smallest or largest of the grid, so the optimum is not bracketed.</param>
/// <param name="RefinedLearningRate">
/// The vertex of the parabola in ln(lr) through the best grid point and its two neighbours; the grid rate itself when
/// the refinement does not apply (then <paramref name="Refinement"/> says why).
/// </param>
/// <param name="Refinement">Null when refined; otherwise why the grid rate was kept.</param>
/// <param name="RefinedLoss">The parabola's value at its vertex (the valley's floor below grid resolution); the grid's best
/// mean loss when the refinement does not apply.</param>
public sealed record WidthOptimum(
    int Width, double LearningRate, double MeanLoss, bool AtGridEdge, IReadOnlyList<Guid> EvidenceTrialIds,
    double RefinedLearningRate = double.NaN, string? Refinement = null, double RefinedLoss = double.NaN);

/// <summary>The grid argmin of one width and its quadratic refinement.</summary>
/// <param name="Index">Index of the best rate in the grid.</param>
/// <param name="AtGridEdge">The best rate is the smallest or the largest of the grid (or the grid's only rate): the optimum is
/// not bracketed, the grid rate is a bound on it.</param>
/// <param name="RefinedLearningRate">The refined rate, or the grid rate when <paramref name="Refinement"/> says why not.</param>
/// <param name="RefinedLoss">The parabola's value at the refined rate, or the grid's best mean loss.</param>
public sealed record GridOptimum(int Index, double LearningRate, double MeanLoss, bool AtGridEdge, double RefinedLearningRate, string? Refinement,
    double RefinedLoss)
{
    /// <summary>+1: the best rate is the grid's largest (the optimum lies above); -1: its smallest (below); 0: bracketed, or a single rate.</summary>
    public int EdgeSide(int gridCount) => !AtGridEdge || gridCount == 1 ? 0 : Index == 0 ? -1 : 1;
}

/// <summary>A width whose best rate is at the edge of its grid: the optimum is beyond it.</summary>
/// <param name="Side">+1: above the largest rate; -1: below the smallest; 0: the grid has a single rate.</param>
public sealed record EdgeOptimum(int Width, double LearningRate, int Side, double? NextRate);

/// <summary>
/// A fully ended width whose optimum the grid does not pin down (its best rate is at the grid's edge, or a rate beside it
/// has no result): an interval-censored observation. If the loss is convex in ln(lr) near its valley, the optimum lies
/// between the nearest rates on either side of the best that have a result (finite or diverged, either worse than the
/// best): above <paramref name="AtLeastRate"/> and below <paramref name="AtMostRate"/>, null where no such rate exists.
/// </summary>
/// <param name="LearningRate">The best rate with a result.</param>
/// <param name="MeanLoss">Its mean loss: the best loss there is at most this.</param>
/// <param name="Why">Why the grid does not pin it down, in words.</param>
public sealed record CensoredOptimum(int Width, double LearningRate, double MeanLoss, double? AtLeastRate, double? AtMostRate,
    IReadOnlyList<Guid> EvidenceTrialIds, string Why);

/// <summary>One fully ended width: its rate grid and, per rate, the ended trials' losses by seed (+infinity: diverged).</summary>
internal sealed record WidthGrid(int Width, double[] Rates, double[][] Outcomes, IReadOnlyList<Guid> EvidenceTrialIds);

/// <summary>
/// The per-width optima the learning-rate laws may use, and what the grid's holes did to them.
/// </summary>
/// <param name="Optima">Widths whose optimum is bracketed by results (ascending by width).</param>
/// <param name="Excluded">Widths left out: a rate next to the best one has no result (its trials failed or were
/// cancelled), so the optimum is not bracketed and may lie in the hole. Each says which cells are missing.</param>
/// <param name="Holes">Every fully ended width's cells without a result, whether or not they mattered (for messages).</param>
/// <param name="Edges">Fully ended widths whose best rate is at the edge of the grid (left out of the fits from fitter 2.2.0).</param>
/// <param name="Censored">The widths left out (a hole beside the best rate, or an edge where edges are left out), each with
/// the bounds its results put on the optimum: what a prediction of it resolves against.</param>
public sealed record WidthOptima(IReadOnlyList<WidthOptimum> Optima, IReadOnlyList<string> Excluded, IReadOnlyList<string> Holes,
    IReadOnlyList<EdgeOptimum> Edges, IReadOnlyList<CensoredOptimum> Censored)
{
    /// <summary>What a fit over these optima should say about the holes and edges: null when the grid has none.</summary>
    public string? Message =>
        Excluded.Count == 0 && Holes.Count == 0 && Advice is null ? null
        : string.Join(" ", (Excluded.Count > 0
                ? ["Left out (the best rate is not bracketed by results): " + string.Join("; ", Excluded) + "."]
                : Array.Empty<string>())
            .Concat(Holes.Count > 0 ? ["Cells without a result (failed or cancelled): " + string.Join("; ", Holes) + "."] : [])
            .Concat(Advice is { } advice ? [advice] : []));

    /// <summary>
    /// Which rates to add so that the grid brackets every width's optimum (a best rate at the grid's edge is a bound, not a
    /// value); null when every ended width's optimum is bracketed.
    /// </summary>
    public string? Advice
    {
        get
        {
            if (Edges.Count == 0) return null;
            var parts = new List<string>();
            foreach (var side in Edges.GroupBy(e => e.Side).OrderByDescending(g => g.Key))
            {
                var widths = string.Join(", ", side.Select(e => e.Width));
                var rate = side.First().LearningRate;
                var next = side.First().NextRate is { } n ? $" (e.g. {Format(n)})" : "";
                parts.Add(side.Key switch
                {
                    > 0 => $"at width(s) {widths} the best rate is the grid's largest, {Format(rate)}: the optimum lies above it; " +
                        $"add rates above {Format(rate)}{next}",
                    < 0 => $"at width(s) {widths} the best rate is the grid's smallest, {Format(rate)}: the optimum lies below it; " +
                        $"add rates below {Format(rate)}{next}",
                    _ => $"at width(s) {widths} the grid has a single rate, {Format(rate)}: add rates on both sides of it",
                });
            }
            return "To bracket the optimum: " + string.Join("; ", parts) + ".";
        }
    }

    private static string Format(double rate) => Numbers.Format(rate);
}

public static class OptimalLearningRate
{
    /// <summary>
    /// For each width whose trials have all ended: the learning rate with the lowest final eval loss averaged
    /// over seeds. A diverged trial counts as an infinite loss (its rate is too high), a failed or cancelled
    /// one as missing. Widths with no finite mean, and widths where a rate next to the best one has no result, are
    /// left out (see <see cref="Analyse"/>). Each optimum is refined by <see cref="Refine"/>.
    /// </summary>
    public static IReadOnlyList<WidthOptimum> PerWidth(IEnumerable<TrialView> trials, bool excludeHoles = true, bool excludeEdges = true) =>
        Analyse(trials, excludeHoles, excludeEdges).Optima;

    /// <summary>
    /// The optima of <see cref="PerWidth"/> with the widths it left out and why. A width's optimum is trusted only when
    /// every planned rate beside the best one has a result: a hole there (failed or cancelled trials) means the true
    /// optimum may sit in the hole, and a best rate at the edge of the results but not of the grid is the same case.
    /// </summary>
    /// <param name="excludeHoles">False: fitter 2.0.0's way (kept for audits of its fits), every width with a result keeps its optimum.</param>
    /// <param name="excludeEdges">True (fitter 2.2.0): a width whose best rate is at the edge of the grid is left out (listed in
    /// <see cref="WidthOptima.Edges"/>); false: kept, as fitters before did.</param>
    public static WidthOptima Analyse(IEnumerable<TrialView> trials, bool excludeHoles = true, bool excludeEdges = true)
    {
        var optima = new List<WidthOptimum>();
        var excluded = new List<string>();
        var holes = new List<string>();
        var edges = new List<EdgeOptimum>();
        var censored = new List<CensoredOptimum>();
        foreach (var width in Grids(trials))
        {
            var missing = Enumerable.Range(0, width.Rates.Length).Where(i => width.Outcomes[i].Length == 0).ToList();
            if (missing.Count > 0)
                holes.Add($"width {width.Width} at lr {string.Join(", ", missing.Select(i => Format(width.Rates[i])))}");
            if (Refine(width.Rates, width.Outcomes.Select(Mean).ToArray()) is not { } best)
            {
                if (missing.Count > 0) excluded.Add($"width {width.Width} has no result at any rate");
                continue;
            }
            var besideBest = missing.Where(i => Math.Abs(i - best.Index) == 1).ToList();
            if (besideBest.Count > 0 && excludeHoles)
            {
                var hole = string.Join(", ", besideBest.Select(i => Format(width.Rates[i])));
                excluded.Add($"width {width.Width}: best rate with a result {Format(best.LearningRate)}, no result beside it at lr {hole}");
                censored.Add(Censor(width, best, $"no result beside the best rate {Format(best.LearningRate)} (at lr {hole})"));
                continue;
            }
            if (best.AtGridEdge)
            {
                var side = best.EdgeSide(width.Rates.Length);
                edges.Add(new EdgeOptimum(width.Width, best.LearningRate, side, NextRate(width.Rates, side)));
                if (excludeEdges)
                {
                    censored.Add(Censor(width, best, side switch
                    {
                        < 0 => $"the best rate {Format(best.LearningRate)} is the grid's smallest",
                        > 0 => $"the best rate {Format(best.LearningRate)} is the grid's largest",
                        _ => $"the grid has a single rate, {Format(best.LearningRate)}",
                    }));
                    continue;
                }
            }
            optima.Add(new WidthOptimum(width.Width, best.LearningRate, best.MeanLoss, best.AtGridEdge, width.EvidenceTrialIds,
                best.RefinedLearningRate, best.Refinement, best.RefinedLoss));
        }
        return new WidthOptima(optima, excluded, holes, edges, censored);
    }

    /// <summary>The bounds a width's results put on its optimum: the nearest rates with a result on either side of the best.</summary>
    private static CensoredOptimum Censor(WidthGrid width, GridOptimum best, string why)
    {
        var below = Enumerable.Range(0, best.Index).Reverse().Where(i => width.Outcomes[i].Length > 0).Select(i => (double?)width.Rates[i]).FirstOrDefault();
        var above = Enumerable.Range(best.Index + 1, width.Rates.Length - best.Index - 1).Where(i => width.Outcomes[i].Length > 0)
            .Select(i => (double?)width.Rates[i]).FirstOrDefault();
        return new CensoredOptimum(width.Width, best.LearningRate, best.MeanLoss, below, above, width.EvidenceTrialIds, why);
    }

    /// <summary>The rate one grid step beyond the edge (the grid's own ratio between its last two rates), or null.</summary>
    private static double? NextRate(double[] rates, int side) => rates.Length < 2 || side == 0 ? null
        : side > 0 ? rates[^1] * (rates[^1] / rates[^2])
        : rates[0] / (rates[1] / rates[0]);

    private static string Format(double rate) => Numbers.Format(rate);

    /// <summary>
    /// The learning-rate grid of every width whose trials have all ended, ascending by width: the rates of all its
    /// trials (ascending) and, per rate, the losses of its completed (finite) and diverged (+infinity) trials by seed.
    /// </summary>
    internal static IReadOnlyList<WidthGrid> Grids(IEnumerable<TrialView> trials)
    {
        var result = new List<WidthGrid>();
        foreach (var byWidth in trials.GroupBy(t => t.Width).OrderBy(g => g.Key))
        {
            if (byWidth.Any(t => t.Status is TrialStatus.Scheduled or TrialStatus.Running)) continue;
            var rates = byWidth.Select(t => t.LearningRate).Distinct().Order().ToArray();
            var outcomes = rates.Select(lr => byWidth
                .Where(t => t.LearningRate == lr && t.Status is TrialStatus.Completed or TrialStatus.Diverged)
                .OrderBy(t => t.Seed).Select(Loss).ToArray()).ToArray();
            var evidence = byWidth.Where(t => t.Status is TrialStatus.Completed or TrialStatus.Diverged)
                .OrderBy(t => t.Order).Select(t => t.TrialId).ToList();
            result.Add(new WidthGrid(byWidth.Key, rates, outcomes, evidence));
        }
        return result;
    }

    /// <summary>The mean over seeds; NaN when the rate has no ended trial, +infinity when one diverged.</summary>
    internal static double Mean(double[] outcomes) => outcomes.Length == 0 ? double.NaN : outcomes.Average();

    /// <summary>
    /// The grid argmin of <paramref name="meanLosses"/> (aligned with the ascending <paramref name="grid"/>; NaN where a
    /// rate has no result, +infinity where it diverged), or null when no mean is finite. The argmin is refined by the
    /// vertex of the parabola in ln(lr) through it and its two grid neighbours, when both neighbours exist and are
    /// finite and the parabola opens upward; otherwise the grid rate is kept and <see cref="GridOptimum.Refinement"/>
    /// says why. Ties go to the smaller rate.
    /// </summary>
    public static GridOptimum? Refine(IReadOnlyList<double> grid, IReadOnlyList<double> meanLosses)
    {
        if (grid.Count != meanLosses.Count) throw new ArgumentException("The grid and the means must have the same length.");
        var best = -1;
        for (var i = 0; i < grid.Count; i++)
            if (double.IsFinite(meanLosses[i]) && (best < 0 || meanLosses[i] < meanLosses[best])) best = i;
        if (best < 0) return null;
        var (lr, loss) = (grid[best], meanLosses[best]);
        var edge = best == 0 || best == grid.Count - 1;
        GridOptimum Kept(string why) => new(best, lr, loss, edge, lr, why, loss);
        if (best == 0 || best == grid.Count - 1) return Kept("The best rate is at the edge of the grid: no neighbour on one side.");
        var (left, right) = (meanLosses[best - 1], meanLosses[best + 1]);
        if (double.IsNaN(left) || double.IsNaN(right)) return Kept("A neighbouring rate has no result.");
        if (double.IsPositiveInfinity(left) || double.IsPositiveInfinity(right)) return Kept("A neighbouring rate diverged.");
        double x0 = Math.Log(grid[best - 1]), x1 = Math.Log(lr), x2 = Math.Log(grid[best + 1]);
        // Second divided difference: twice the parabola's leading coefficient.
        var curvature = ((right - loss) / (x2 - x1) - (loss - left) / (x1 - x0)) / (x2 - x0);
        if (!(curvature > 0)) return Kept("The three points do not make an upward parabola.");
        var numerator = (x1 - x0) * (x1 - x0) * (loss - right) - (x1 - x2) * (x1 - x2) * (loss - left);
        var denominator = (x1 - x0) * (loss - right) - (x1 - x2) * (loss - left);
        var vertex = x1 - 0.5 * numerator / denominator;
        if (!double.IsFinite(vertex)) return Kept("The parabola's vertex is not finite.");
        var at = Math.Clamp(vertex, x0, x2);
        // The parabola's value there (Lagrange form through the three points): the valley's floor below grid resolution.
        var floor = left * (at - x1) * (at - x2) / ((x0 - x1) * (x0 - x2)) + loss * (at - x0) * (at - x2) / ((x1 - x0) * (x1 - x2))
            + right * (at - x0) * (at - x1) / ((x2 - x0) * (x2 - x1));
        return new GridOptimum(best, lr, loss, edge, Math.Exp(at), null, Math.Min(floor, loss));
    }

    /// <summary>An ended trial's loss: its final loss, or +infinity when it diverged.</summary>
    internal static double Loss(TrialView t) =>
        t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l) ? l : double.PositiveInfinity;
}

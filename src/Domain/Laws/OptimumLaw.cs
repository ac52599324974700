using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// The laws over each fully ended width's best learning rate: widths whose optimum is bracketed by results (a hole
/// beside the best rate, or a best rate at the grid's edge, leaves the width out: there the optimum is a bound, not a value).
/// </summary>
public abstract class OptimumLaw : Law
{
    public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, LawPoint point)
    {
        if (atWidth.Count == 0 || atWidth.Any(t => !t.IsTerminal)) return null;
        return OptimalLearningRate.PerWidth(atWidth).SingleOrDefault() is { } optimum
            ? new Observation(Observed(optimum), optimum.EvidenceTrialIds)
            : null;
    }

    /// <summary>What this law observes of a width's optimum.</summary>
    protected abstract double Observed(WidthOptimum optimum);

    /// <summary>The analysis of the widths a fit of this law may use, as the fitter version in <paramref name="options"/> made it.</summary>
    internal static WidthOptima Optima(IReadOnlyList<TrialView> trials, FitOptions options) =>
        OptimalLearningRate.Analyse(trials.Where(t => t.Width >= 1), options.ExcludesHoles, options.ExcludesEdges);
}

using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// The laws over each fully ended width's best learning rate: widths whose optimum is bracketed by results (a hole
/// beside the best rate, or a best rate at the grid's edge, leaves the width out: there the optimum is a bound, not a value).
/// A claim about such a width resolves against the bound (<see cref="Censored"/>).
/// </summary>
public abstract class OptimumLaw(LawTerms terms) : Law(terms)
{
    public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, LawPoint point)
    {
        if (atWidth.Count == 0 || atWidth.Any(t => !t.IsTerminal)) return null;
        var analysis = OptimalLearningRate.Analyse(atWidth);
        if (analysis.Optima.SingleOrDefault() is { } optimum) return new Observation(Observed(optimum), optimum.EvidenceTrialIds);
        return analysis.Censored.SingleOrDefault() is { } bound ? Censored(bound) : null;
    }

    /// <summary>
    /// What a width whose optimum the grid does not pin down says of this law's quantity: by default (a law of the best
    /// rate) that it lies between the nearest rates with a result on either side of the best.
    /// </summary>
    protected virtual Observation? Censored(CensoredOptimum bound) => bound.AtLeastRate is null && bound.AtMostRate is null ? null
        : new Observation(bound.LearningRate, bound.EvidenceTrialIds, bound.AtLeastRate, bound.AtMostRate, bound.Why);

    /// <summary>What a width whose optimum the grid does not pin down says of the best loss: at most the best mean seen.</summary>
    internal static Observation CensoredLoss(CensoredOptimum bound) =>
        new(bound.MeanLoss, bound.EvidenceTrialIds, null, bound.MeanLoss, bound.Why);

    /// <summary>
    /// The spread of an observed optimum: each seed's own refined optimum at each width seen, their spread pooled over the
    /// widths, divided by the seeds the observation averages.
    /// </summary>
    public override double? ObservationSpread(IReadOnlyList<TrialView> evidence) =>
        ObservationNoise.OfOptima(evidence, Observed);

    /// <summary>What this law observes of a width's optimum.</summary>
    protected abstract double Observed(WidthOptimum optimum);

    /// <summary>The analysis of the widths a fit of this law may use, as the fitter version in <paramref name="options"/> made it.</summary>
    internal static WidthOptima Optima(IReadOnlyList<TrialView> trials, FitOptions options) =>
        OptimalLearningRate.Analyse(trials.Where(t => t.Width >= 1), options.ExcludesHoles, options.ExcludesEdges);

    /// <summary>
    /// What a fit over the widths' best learning rates says of them: optima at the grid's edge (fitters that kept them),
    /// optima kept at the grid rate, holes and the rates to add.
    /// </summary>
    internal static string? RateMessage(WidthOptima analysis)
    {
        var optima = analysis.Optima;
        var edges = optima.Where(o => o.AtGridEdge).Select(o => o.Width).ToList();
        var unrefined = optima.Where(o => !o.AtGridEdge && o.Refinement is not null).Select(o => $"{o.Width} ({o.Refinement})").ToList();
        return LawFitting.Join(
            edges.Count > 0 ? $"{CredibilityRule.EdgeMessage} {string.Join(", ", edges)}: the optimum may lie outside the grid." : null,
            unrefined.Count > 0 ? $"Kept the grid rate at width(s) {string.Join("; ", unrefined)}." : null,
            analysis.Message);
    }

    /// <summary>
    /// The best learning rate of each width in one bootstrap resample: the seeds of each (width, rate) cell resampled, and
    /// each width's argmin and refinement found again.
    /// </summary>
    internal static (List<double> Widths, List<double> Rates) ResampledOptima(IReadOnlyList<WidthGrid> grids, Random random)
    {
        var x = new List<double>(grids.Count);
        var y = new List<double>(grids.Count);
        foreach (var grid in grids)
        {
            var means = grid.Outcomes.Select(o => o.Length == 0 ? double.NaN : Bootstrap.ResampledMean(o, random)).ToArray();
            if (OptimalLearningRate.Refine(grid.Rates, means) is not { } best) continue;
            x.Add(grid.Width);
            y.Add(best.RefinedLearningRate);
        }
        return (x, y);
    }
}

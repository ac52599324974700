using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// The laws of the best learning rate itself against width (the optimal-LR line and its curved alternative): quick to
/// refit, fitted to each fully ended width's refined optimum once there are as many optima as parameters, observed as the
/// refined optimum at a width, and drawn as no loss curve. A law of this kind says where its best rate lies at a width and
/// how it fits the optima.
/// </summary>
public abstract class BestRateLaw(string name, string form, IReadOnlyList<string> parameterNames, IReadOnlyList<ExponentBound>? exponents = null)
    : OptimumLaw(new LawTerms(name, form, parameterNames, RefitCost.Quick, LawQuantity.LearningRate, exponents))
{
    /// <summary>The best rate the fitted parameters <paramref name="p"/> put at <paramref name="width"/>.</summary>
    protected abstract double BestRateAt(IReadOnlyDictionary<string, double> p, double width);

    /// <summary>The fit over the refined optima of <paramref name="analysis"/>.</summary>
    private protected abstract LawFitted Fit(IReadOnlyList<TrialView> trials, WidthOptima analysis, FitOptions options);

    public sealed override double? Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) => BestRateAt(p, point.Width);

    public sealed override double? OptimalRateAt(IReadOnlyDictionary<string, double> p, double width) => BestRateAt(p, width);

    public sealed override IEnumerable<LawCurve> Curves(LawFitted fit) => [];

    protected sealed override double Observed(WidthOptimum optimum) => optimum.RefinedLearningRate;

    public sealed override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options)
    {
        var sized = trials.Where(t => t.Width >= 1).ToList();
        if (sized.Count == 0 || !sized.All(t => t.LearningRate > 0)) yield break;
        var analysis = Optima(sized, options);
        var optima = analysis.Optima;
        if (optima.Count < ParameterCount) yield break;
        yield return new LawCandidate(Name, LawKeys.All, optima.SelectMany(o => o.EvidenceTrialIds).ToList(),
            optima.Select(o => new FitPoint(o.Width, o.RefinedLearningRate)).ToList(), () => Fit(sized, analysis, options));
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// <c>L*(h) = E + A h^-alpha</c> over the tuned frontier: at each fully ended width whose optimum is bracketed, the best mean
/// final loss over learning rates (a diverged trial makes its rate's mean infinite). Needs at least four such widths. The
/// bootstrap resamples seeds within each (width, rate) cell and takes the best rate again (or, when some cell has a single
/// seed, resamples the frontier's points).
/// </summary>
public sealed class TunedFrontierPowerLaw() : OptimumLaw(WidthPowerLaw.Terms(LawName))
{
    public const string LawName = "tuned-frontier-power";

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) => WidthPowerLaw.Evaluate(p, point);

    protected override double Observed(WidthOptimum optimum) => optimum.MeanLoss;

    protected override Observation? Censored(CensoredOptimum bound) => CensoredLoss(bound);

    /// <summary>A frontier claim is about the best rate there: the one the optimal-LR law supplies, when fitted.</summary>
    public override double? LearningRateAt(LawFitted fit, LawPoint point, LawFitted? optimalLr) =>
        optimalLr is { Converged: true } lr ? OptimalLrLaw.BestRate(lr.Parameters, point.Width) : null;

    public override IEnumerable<LawCurve> Curves(LawFitted fit) => [new LawCurve("tuned frontier", null, null, h => Evaluate(fit.Parameters, new LawPoint(h)))];

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options)
    {
        var analysis = Optima(trials, options);
        var optima = analysis.Optima;
        if (optima.Count <= PowerLawFitter.ParameterCount) yield break;
        yield return new LawCandidate(Name, LawKeys.All, optima.SelectMany(o => o.EvidenceTrialIds).ToList(),
            optima.Select(o => new FitPoint(o.Width, o.MeanLoss)).ToList(), () => Fit(trials, analysis, options));
    }

    private LawFitted Fit(IReadOnlyList<TrialView> trials, WidthOptima analysis, FitOptions options)
    {
        var optima = analysis.Optima;
        var kept = OptimalLearningRate.Grids(trials.Where(t => t.Width >= 1)).Where(g => optima.Any(o => o.Width == g.Width)).ToList();
        var widths = optima.Select(o => (double)o.Width).ToArray();
        var best = optima.Select(o => o.MeanLoss).ToArray();
        var points = optima.Select(o => new FitPoint(o.Width, o.MeanLoss)).ToList();
        var evidence = optima.SelectMany(o => o.EvidenceTrialIds).ToList();
        var edges = optima.Where(o => o.AtGridEdge).Select(o => o.Width).ToList();
        var message = LawFitting.Join(edges.Count > 0
            ? $"{CredibilityRule.EdgeMessage} {string.Join(", ", edges)}: the frontier there may be higher than the true optimum."
            : null, analysis.Message);
        var bySeed = LawFitting.EverySeedRepeated(kept);
        Func<Random, Sample> resample = bySeed
            ? random =>
            {
                var y = new double[kept.Count];
                for (var w = 0; w < kept.Count; w++)
                {
                    var min = double.PositiveInfinity;
                    foreach (var outcomes in kept[w].Outcomes)
                        if (outcomes.Length > 0 && Bootstrap.ResampledMean(outcomes, random) is var m && m < min) min = m;
                    y[w] = min;
                }
                return new Sample(widths, y, null);
            }
        : random => new Sample(widths, best, Bootstrap.PointWeights(widths.Length, random));
        return LawFitting.PowerFit(this, LawKeys.All, widths, best, points, evidence, message, [], resample,
            bySeed ? LawFitting.SeedsMethod : LawFitting.PointsMethod, options);
    }
}

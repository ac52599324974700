using MathNet.Numerics;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// <c>ln lr*(h) = c + d ln h + e (ln h)^2</c>: the optimal-LR law with a bend, fitted beside the line to the same refined
/// optima (least squares, the same bootstrap). Its local slope is d + 2 e ln h: e &lt; 0 says the best rate falls faster
/// as width grows. It is the line's curved alternative: the two are compared by how they missed the widths they had not
/// seen, and it is shown when the line bends.
/// </summary>
public sealed class OptimalLrQuadraticLaw() : BestRateLaw(LawName, "ln lr*(h) = c + d ln h + e (ln h)^2", ["c", "d", "e"])
{
    public const string LawName = "optimal-lr-quadratic";

    public override string? AlternativeTo => OptimalLrLaw.LawName;

    protected override double BestRateAt(IReadOnlyDictionary<string, double> p, double width) =>
        Math.Exp(p["c"] + p["d"] * Math.Log(width) + p["e"] * Math.Log(width) * Math.Log(width));

    /// <summary>[c, d, e] of the parabola through (ln h, ln lr), or null when the widths do not determine one.</summary>
    private static double[]? Parabola(IReadOnlyList<double> widths, IReadOnlyList<double> rates) =>
        widths.Distinct().Count() < 3 ? null
        : MathNet.Numerics.Fit.Polynomial(widths.Select(w => Math.Log(w)).ToArray(), rates.Select(r => Math.Log(r)).ToArray(), 2) is var p
            && p.All(double.IsFinite) ? p : null;

    private protected override LawFitted Fit(IReadOnlyList<TrialView> trials, WidthOptima analysis, FitOptions options)
    {
        var optima = analysis.Optima;
        var grids = OptimalLearningRate.Grids(trials).Where(g => optima.Any(o => o.Width == g.Width)).ToList();
        var points = optima.Select(o => new FitPoint(o.Width, o.RefinedLearningRate)).ToList();
        var evidence = optima.SelectMany(o => o.EvidenceTrialIds).ToList();
        const string method = "grid-argmin+quadratic-refinement+ols";
        var widths = points.Select(p => p.X).ToArray();
        var rates = points.Select(p => p.Y).ToArray();
        if (Parabola(widths, rates) is not { } estimate)
            return NotFitted(LawKeys.All, "The points do not determine a parabola.", points, evidence, method);
        var bySeed = LawFitting.EverySeedRepeated(grids);
        var boot = Bootstrap.Run(options.BootstrapOrDefault, (_, random) =>
        {
            var (x, y) = bySeed ? ResampledOptima(grids, random) : new Sample(widths, rates, Bootstrap.PointWeights(widths.Length, random)).Expanded();
            return Parabola(x, y);
        });
        var lnY = rates.Select(r => Math.Log(r)).ToArray();
        var fitted = widths.Select(h => estimate[0] + estimate[1] * Math.Log(h) + estimate[2] * Math.Log(h) * Math.Log(h)).ToArray();
        // As for the line: optima that do not move with width are explained whole (R² of a constant is 0/0).
        double? r2 = lnY.Distinct().Count() < 2 ? 1.0 : GoodnessOfFit.CoefficientOfDetermination(fitted, lnY);
        if (!double.IsFinite(r2.Value)) r2 = null;
        var fit = Fitted(LawKeys.All,
            new Dictionary<string, double> { ["c"] = estimate[0], ["d"] = estimate[1], ["e"] = estimate[2] },
            LawFitting.Join(RateMessage(analysis), LawFitting.BootstrapMessage(boot)), r2,
            points, evidence, method + "+" + (bySeed ? LawFitting.SeedsMethod : LawFitting.PointsMethod));
        return LawFitting.WithUncertainty(fit, boot, ParameterNames, estimate,
            (p, at) => Math.Exp(p[0] + p[1] * Math.Log(at.Width) + p[2] * Math.Log(at.Width) * Math.Log(at.Width)), LawFitting.Widths(options));
    }
}

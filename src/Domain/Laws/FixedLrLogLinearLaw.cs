using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// <c>L(h) = a + b ln h</c> per learning rate, over the mean final eval loss of completed trials at each width: Metz's naive
/// law, a line in ln h at a fixed rate. Least squares; the bootstrap resamples seeds within widths (or widths).
/// </summary>
public sealed class FixedLrLogLinearLaw() : FixedLrLaw(new LawTerms(LawName, "L(h) = a + b ln h", ["a", "b"], RefitCost.Quick))
{
    public const string LawName = "fixed-lr-loglinear";
    internal override int MinimumWidths => 2;

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) => p["a"] + p["b"] * Math.Log(point.Width);

    internal override LawFitted Fit(FixedLrData lr, FitOptions options)
    {
        var line = LineFitter.FitLogX(lr.Widths, lr.Means);
        if (line is null)
            return NotFitted(lr.Key, "The points do not determine a line.", lr.Points, lr.Evidence, "ols");
        var resample = lr.Resampler();
        var boot = Bootstrap.Run(options.BootstrapOrDefault, (_, random) =>
            resample(random).Expanded() is var (x, y) && LineFitter.FitLogX(x, y) is { } l ? [l.Intercept, l.Slope] : null);
        var fit = Fitted(lr.Key,
            new Dictionary<string, double> { ["a"] = line.Intercept, ["b"] = line.Slope, ["learningRate"] = lr.LearningRate },
            LawFitting.Join(lr.DivergedMessage, LawFitting.BootstrapMessage(boot)), line.RSquared, lr.Points, lr.Evidence,
            "ols+" + lr.BootstrapMethod);
        return LawFitting.WithUncertainty(fit, boot, ParameterNames, [line.Intercept, line.Slope],
            (p, at) => p[0] + p[1] * Math.Log(at.Width), LawFitting.Widths(options));
    }
}

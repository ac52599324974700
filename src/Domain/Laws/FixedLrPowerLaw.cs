using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// <c>L(h) = E + A h^-alpha</c> per learning rate, over the mean final eval loss of completed trials at each width; needs at
/// least four widths (more points than parameters). Huber on ln L, L-BFGS from a grid of starts (see <see cref="PowerLawFitter"/>).
/// </summary>
public sealed class FixedLrPowerLaw() : FixedLrLaw(WidthPowerLaw.Terms(LawName))
{
    public const string LawName = "fixed-lr-power";

    internal override int MinimumWidths => PowerLawFitter.ParameterCount + 1;

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) => WidthPowerLaw.Evaluate(p, point);

    internal override LawFitted Fit(FixedLrData lr, FitOptions options) =>
        LawFitting.PowerFit(this, lr.Key, lr.Widths, lr.Means, lr.Points, lr.Evidence, lr.DivergedMessage,
            new Dictionary<string, double> { ["learningRate"] = lr.LearningRate }, lr.Resampler(), lr.BootstrapMethod, options);
}

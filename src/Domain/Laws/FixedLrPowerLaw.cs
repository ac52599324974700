namespace ScalingLedger.Domain.Laws;

/// <summary>
/// <c>L(h) = E + A h^-alpha</c> per learning rate, over the mean final eval loss of completed trials at each width; needs at
/// least four widths (more points than parameters). Huber on ln L, L-BFGS from a grid of starts (see <see cref="PowerLaw"/>).
/// </summary>
public sealed class FixedLrPowerLaw : FixedLrLaw
{
    public const string LawName = "fixed-lr-power";

    public override string Name => LawName;
    public override string Form => PowerLaw.Form;
    public override IReadOnlyList<string> ParameterNames => PowerLaw.ParameterNames;
    public override RefitCost Cost => RefitCost.Slow;
    public override IReadOnlyList<ExponentBound> Exponents { get; } = [PowerLaw.WidthExponent];
    public override IReadOnlyList<string> PositiveCoefficients { get; } = ["A"];
    internal override int MinimumWidths => PowerLaw.ParameterCount + 1;

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) => PowerLaw.Evaluate(p, point);

    internal override FitResult Fit(FixedLrData lr, FitOptions options) =>
        LawFitting.PowerFit(this, lr.Key, lr.Widths, lr.Means, lr.Points, lr.Evidence, lr.DivergedMessage,
            new Dictionary<string, double> { ["learningRate"] = lr.LearningRate }, lr.Resampler(), lr.BootstrapMethod, options);
}

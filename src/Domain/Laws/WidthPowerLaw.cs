using ScalingLedger.Domain.Fitting;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// What the laws of the form <c>E + A h^-alpha</c> over widths share (<see cref="FixedLrPowerLaw"/>,
/// <see cref="TunedFrontierPowerLaw"/>, and the surface's floor): their terms, the bound on their exponent and their value at
/// a point. The fit itself is <see cref="PowerLawFitter"/>'s.
/// </summary>
public static class WidthPowerLaw
{
    /// <summary>What credibility holds a width exponent alpha to: (0, <see cref="PowerLawFitter.MaxExponent"/>].</summary>
    public static readonly ExponentBound WidthExponent = new("alpha", "exponent", "width scaling", 0, false, PowerLawFitter.MaxExponent);

    /// <summary>
    /// The terms of a law of this form over widths (<paramref name="name"/>'s): slow to refit, its exponent held to
    /// <see cref="WidthExponent"/> and its coefficient A positive.
    /// </summary>
    public static LawTerms Terms(string name) =>
        new(name, PowerLawFitter.Form, PowerLawFitter.ParameterNames, RefitCost.Slow, Exponents: [WidthExponent], PositiveCoefficients: ["A"]);

    /// <summary>The law's value at a point's width from fitted parameters named as <see cref="PowerLawFitter.ParameterNames"/>.</summary>
    public static double Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) =>
        PowerLawFitter.Evaluate(p["E"], p["A"], p["alpha"], point.Width);
}

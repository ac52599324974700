namespace ScalingLedger.Domain.Laws;

/// <summary>A prediction confronted with its observation.</summary>
/// <param name="Residual">observed - predicted.</param>
/// <param name="ZScore">
/// The residual in units of the interval's implied standard deviation, (upper - lower) / 2 / 1.96. A zero-width
/// interval gives 0 for a zero residual and an infinity of the residual's sign otherwise.
/// </param>
/// <param name="Inside">The observation lies in [lower, upper]. Outside is a deviation to investigate.</param>
public sealed record ResolvedPrediction(double Residual, double ZScore, bool Inside);

public static class PredictionResolution
{
    /// <summary>The normal quantile a 95% interval's half-width spans.</summary>
    public const double Z95 = 1.959963984540054;

    public static ResolvedPrediction Resolve(double predicted, double lower, double upper, double observed)
    {
        if (!(double.IsFinite(predicted) && double.IsFinite(lower) && double.IsFinite(upper) && double.IsFinite(observed)))
            throw new ArgumentException("A prediction resolves only with finite numbers.");
        if (lower > upper) throw new ArgumentException("The interval's lower bound is above its upper bound.");
        var residual = observed - predicted;
        var sigma = (upper - lower) / 2 / Z95;
        var z = sigma > 0 ? residual / sigma : residual == 0 ? 0 : residual > 0 ? double.PositiveInfinity : double.NegativeInfinity;
        return new ResolvedPrediction(residual, z, observed >= lower && observed <= upper);
    }
}

/// <summary>How often one law's resolved predictions fell inside their intervals (nominally 95%).</summary>
/// <param name="MeanAbsZ">Mean |z| over the resolutions with a finite z; null when there are none.</param>
public sealed record LawCalibration(string Law, int Resolved, int Inside, double ShareInside, double? MeanAbsZ);

public static class Calibration
{
    /// <summary>Per law (ordinal order of names): resolved count, count inside, share inside.</summary>
    public static IReadOnlyList<LawCalibration> PerLaw(IEnumerable<(string Law, ResolvedPrediction Resolution)> resolved) =>
        resolved.GroupBy(r => r.Law, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var count = g.Count();
                var inside = g.Count(r => r.Resolution.Inside);
                var finite = g.Select(r => Math.Abs(r.Resolution.ZScore)).Where(double.IsFinite).ToList();
                return new LawCalibration(g.Key, count, inside, (double)inside / count, finite.Count > 0 ? finite.Average() : null);
            })
            .ToList();
}

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

/// <summary>
/// How often one law's predictions held: over the points it predicted that have been observed, the last prediction issued
/// before each was observed (the one a researcher would have acted on), the share that fell inside its 95% interval.
/// </summary>
/// <param name="Resolved">Points observed (one per law, key, width and rate), each counted once however often it was predicted.</param>
/// <param name="Lower">The 95% (Wilson) interval of the share inside, given how few points there are.</param>
/// <param name="MeanAbsZ">Mean |z| over the points with a finite z; null when there are none.</param>
/// <param name="BootstrapResolved">Of those points, the predictions that kept the bootstrap's own interval beside their
/// calibrated one (fitter 3.0.0), and <paramref name="BootstrapInside"/> how many fell inside that.</param>
public sealed record LawCalibration(string Law, int Resolved, int Inside, double ShareInside, double? MeanAbsZ, double Lower, double Upper,
    int BootstrapResolved = 0, int BootstrapInside = 0)
{
    /// <summary>The share inside the bootstrap's own intervals, where the predictions kept them; null where none did.</summary>
    public double? BootstrapShare => BootstrapResolved > 0 ? (double)BootstrapInside / BootstrapResolved : null;
}

public static class Calibration
{
    /// <summary>
    /// Per law (ordinal order of names), over the last prediction issued before each point was observed: points, inside,
    /// share inside with its binomial interval, and the bootstrap intervals' share where kept. A point is a study's law, key,
    /// width and rate: the predictions of several studies pool, each study's points counted apart.
    /// </summary>
    public static IReadOnlyList<LawCalibration> LastBeforeObservation(IEnumerable<Studies.PredictionView> predictions) =>
        predictions.Where(p => p.Resolution is not null)
            .GroupBy(p => (p.Issued.StudyId, p.Issued.Law, p.Issued.Key, p.Issued.Width, p.Issued.AtLearningRate))
            .Select(g => g.MaxBy(p => p.IssuedSequence)!)
            .GroupBy(p => p.Issued.Law, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var count = g.Count();
                var inside = g.Count(p => p.Resolution!.Inside);
                var z = g.Select(p => p.Resolution!.ZScore).OfType<double>().Select(Math.Abs).Where(double.IsFinite).ToList();
                var (lower, upper) = Wilson(inside, count);
                var kept = g.Where(p => p.Resolution!.InsideBootstrap is not null).ToList();
                return new LawCalibration(g.Key, count, inside, (double)inside / count, z.Count > 0 ? z.Average() : null, lower, upper,
                    kept.Count, kept.Count(p => p.Resolution!.InsideBootstrap == true));
            })
            .ToList();

    /// <summary>The Wilson score interval (95%) of a share of <paramref name="k"/> in <paramref name="n"/>.</summary>
    public static (double Lower, double Upper) Wilson(int k, int n)
    {
        if (n == 0) return (0, 1);
        const double z = PredictionResolution.Z95;
        var p = (double)k / n;
        var centre = (p + z * z / (2 * n)) / (1 + z * z / n);
        var half = z / (1 + z * z / n) * Math.Sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}

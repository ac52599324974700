using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Claims;

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

    /// <summary>
    /// A claim against an interval-censored observation (the true value is only known to lie within
    /// [<see cref="Observation.AtLeast"/>, <see cref="Observation.AtMost"/>]): a miss when the claim's whole interval lies on the
    /// wrong side of a bound, held otherwise (the grid cannot tell it wrong). No residual or z: there is no value to measure
    /// it from. The bootstrap's interval is judged the same way where the claim kept it.
    /// </summary>
    /// <param name="shown">The value the grid shows (its best rate or the loss there), recorded as observed.</param>
    public static PredictionResolved ResolveCensored(Guid studyId, PredictionIssued issued, Studies.Observation observation, double shown,
        long sequence, DateTimeOffset now)
    {
        var (atLeast, atMost) = (observation.AtLeast, observation.AtMost);
        bool Overlaps(double lower, double upper) => upper >= (atLeast ?? double.NegativeInfinity) && lower <= (atMost ?? double.PositiveInfinity);
        var inside = Overlaps(issued.Lower, issued.Upper);
        bool? insideBootstrap = issued is { BootstrapLower: { } bl, BootstrapUpper: { } bu } ? Overlaps(bl, bu) : null;
        var range = Range(atLeast, atMost);
        var interval = $"[{Numbers.Format(issued.Lower)}, {Numbers.Format(issued.Upper)}]";
        var note = $"not pinned down by the grid ({observation.Censoring}): it lies {range}; " + (inside
            ? $"the 95% interval {interval} reaches that range, so the claim stands"
            : $"the whole 95% interval {interval} lies {(atLeast is { } l && issued.Upper < l ? "below" : "above")} it: a miss");
        return new PredictionResolved(studyId, issued.PredictionId, shown, null, null, inside, note, observation.TrialIds, sequence, now,
            insideBootstrap, atLeast, atMost);
    }

    /// <summary>Whether <paramref name="r"/> resolved against a range (the grid bounded the value without pinning it down).</summary>
    public static bool IsCensored(PredictionResolved r) => r.ObservedAtLeast is not null || r.ObservedAtMost is not null;

    /// <summary>Where a censored observation lies, in words ("below 2.15e-4", "between 1e-4 and 4.64e-4").</summary>
    public static string Range(double? atLeast, double? atMost) => (atLeast, atMost) switch
    {
        ({ } l, { } m) => $"between {Numbers.Format(l)} and {Numbers.Format(m)}",
        ({ } l, null) => $"above {Numbers.Format(l)}",
        (null, { } m) => $"below {Numbers.Format(m)}",
        _ => "anywhere",
    };

    /// <summary>
    /// What a resolution observed, in words for a table or a line: the value (by <paramref name="format"/>), the range of a
    /// censored one ("below 2.15e-4"), or that every trial there diverged.
    /// </summary>
    public static string ObservedText(PredictionResolved r, Func<double, string> format) =>
        IsCensored(r) ? Range(r.ObservedAtLeast, r.ObservedAtMost)
        : r.Observed is { } o ? format(o) : "every trial diverged";
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

/// <summary>
/// How one law's claims held at one reach: how many doublings beyond the widest width its fit saw (1, 2, or 3 for three
/// and more; 0 for a claim inside the fit's widths). Counted by claim (the last claim at each reach about each point) and by
/// width-event (one study's width, held only when every claim about it held: the claims about one width share its noise,
/// so they are not independent evidence). Sharpness beside coverage: the median half-width as a factor, sqrt(upper/lower)
/// (x/÷ that factor), of those claims.
/// </summary>
/// <param name="Lower">The 95% (Wilson) interval of the width-events' share held.</param>
/// <param name="BootstrapClaims">Of the claims, those that kept the bootstrap's own interval, and
/// <paramref name="BootstrapInside"/> how many fell inside it: the same points as the calibrated column where every claim kept it.</param>
/// <param name="CensoredClaims">Of the claims, those resolved against a range (the grid bounded the value without pinning it down:
/// held unless the whole interval lay on the wrong side), and <paramref name="CensoredInside"/> how many of them held: a held
/// censored claim is weaker evidence than a value inside, so they are counted apart too.</param>
public sealed record ReachCalibration(string Law, int Reach, int Claims, int ClaimsInside, int WidthEvents, int WidthEventsHeld,
    double Lower, double Upper, double? MedianFactor, int BootstrapClaims, int BootstrapInside, int CensoredClaims = 0, int CensoredInside = 0)
{
    public double ShareHeld => WidthEvents > 0 ? (double)WidthEventsHeld / WidthEvents : 0;
}

public static class CalibrationAtReach
{
    /// <summary>3 stands for three doublings and more.</summary>
    public const int Farthest = 3;

    /// <summary>Doublings from <paramref name="widestSeen"/> to <paramref name="width"/>, rounded up (0 within, at most 3).</summary>
    public static int Reach(double width, double widestSeen)
    {
        if (!(widestSeen > 0) || width <= widestSeen * (1 + 1e-9)) return 0;
        return Math.Min(Farthest, (int)Math.Ceiling(Math.Log2(width / widestSeen) - 1e-9));
    }

    /// <summary>
    /// Per law and reach, over resolved claims whose fit's widest width <paramref name="widestOfFit"/> knows (by study and
    /// fit: fit ids are unique in a ledger, not across replayed sweeps): for every observed point, the last claim issued at
    /// each reach, counted by claim and by width-event.
    /// </summary>
    public static IReadOnlyList<ReachCalibration> Of(IEnumerable<Studies.PredictionView> predictions, Func<Guid, Guid, double?> widestOfFit) =>
        LastAtEachReach(predictions, widestOfFit)
            .GroupBy(c => (c.Claim.Issued.Law, c.Reach))
            .OrderBy(g => g.Key.Law, StringComparer.Ordinal).ThenBy(g => g.Key.Reach)
            .Select(g => Summarise(g.Key.Law, g.Key.Reach, g.Select(c => c.Claim).ToList()))
            .ToList();

    /// <summary>For every observed point, the last resolved claim issued about it at each reach.</summary>
    public static IReadOnlyList<(Studies.PredictionView Claim, int Reach)> LastAtEachReach(IEnumerable<Studies.PredictionView> predictions,
        Func<Guid, Guid, double?> widestOfFit) =>
        predictions.Where(p => p.Resolution is not null)
            .Select(p => (Claim: p, Widest: widestOfFit(p.Issued.StudyId, p.Issued.FitId)))
            .Where(c => c.Widest is not null)
            .Select(c => (c.Claim, Reach: Reach(c.Claim.Issued.Width, c.Widest!.Value)))
            .GroupBy(c => (c.Claim.Issued.StudyId, c.Claim.Issued.Law, c.Claim.Issued.Key, c.Claim.Issued.Width, c.Claim.Issued.AtLearningRate, c.Reach))
            .Select(g => g.MaxBy(c => c.Claim.IssuedSequence))
            .ToList();

    private static double? Median(IReadOnlyList<double> sorted) =>
        sorted.Count == 0 ? null : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>The claims of several laws (or studies) as one row, e.g. the tuned laws together.</summary>
    public static ReachCalibration Summarise(string law, int reach, IReadOnlyList<Studies.PredictionView> claims)
    {
        var events = claims.GroupBy(c => (c.Issued.StudyId, c.Issued.Width)).ToList();
        var held = events.Count(e => e.All(c => c.Resolution!.Inside));
        var (lower, upper) = Calibration.Wilson(held, events.Count);
        // A claim unbounded below (lower 0) is infinitely wide: it counts, at the far end.
        var factors = claims.Select(c => c.Issued.Lower > 0 ? Math.Sqrt(c.Issued.Upper / c.Issued.Lower) : double.PositiveInfinity).Order().ToList();
        var kept = claims.Where(c => c.Resolution!.InsideBootstrap is not null).ToList();
        var censored = claims.Where(c => PredictionResolution.IsCensored(c.Resolution!)).ToList();
        return new ReachCalibration(law, reach, claims.Count, claims.Count(c => c.Resolution!.Inside), events.Count, held, lower, upper,
            Median(factors), kept.Count, kept.Count(c => c.Resolution!.InsideBootstrap == true), censored.Count, censored.Count(c => c.Resolution!.Inside));
    }
}

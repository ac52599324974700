using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// <c>ln lr*(h) = c + d ln h</c> over each fully ended width's best learning rate, refined below grid resolution by a
/// parabola in ln(lr) through the grid argmin and its neighbours (see <see cref="OptimalLearningRate.Refine"/>). Widths whose
/// best rate is at the grid's edge are left out (a bound is not a value). The bootstrap resamples seeds within each
/// (width, rate) cell and repeats argmin, refinement and line (or, when some cell has a single seed, resamples the
/// per-width optima). Credibility holds the slope d to [-2, 1]: theory gives -1 for the standard parametrization with Adam
/// and 0 for muP; a unit's margin either side.
/// </summary>
public sealed class OptimalLrLaw() : BestRateLaw(LawName, "ln lr*(h) = c + d ln h", ["c", "d"],
    [new ExponentBound(SlopeParameter, "optimal-LR slope", "width scaling of the best learning rate", -2, true, 1)])
{
    public const string LawName = "optimal-lr";

    public static double BestRate(IReadOnlyDictionary<string, double> p, double width) => Math.Exp(p["c"] + p["d"] * Math.Log(width));

    /// <summary>
    /// The study's headline: how the best rate scales with width, d in lr* ~ h^d. Every law whose best rate follows a power
    /// of width names that slope so (the width-rate surface too).
    /// </summary>
    public const string SlopeParameter = "d";

    /// <summary>The headline slope of a converged fit of this law, with its interval; null for any other fit.</summary>
    public static ParameterEstimate? Slope(LawFitted fit) =>
        fit is { Law: LawName, Converged: true } ? ParameterEstimate.Of(fit, SlopeParameter) : null;

    /// <summary>The width slope of the best rate a fit's parameters name, whatever its law (for a curve's label); null if none.</summary>
    public static double? SlopeOf(IReadOnlyDictionary<string, double> parameters) =>
        parameters.TryGetValue(SlopeParameter, out var d) ? d : null;

    protected override double BestRateAt(IReadOnlyDictionary<string, double> p, double width) => BestRate(p, width);

    private protected override LawFitted Fit(IReadOnlyList<TrialView> trials, WidthOptima analysis, FitOptions options)
    {
        var optima = analysis.Optima;
        var grids = OptimalLearningRate.Grids(trials).Where(g => optima.Any(o => o.Width == g.Width)).ToList();
        var points = optima.Select(o => new FitPoint(o.Width, o.RefinedLearningRate)).ToList();
        var evidence = optima.SelectMany(o => o.EvidenceTrialIds).ToList();
        var message = RateMessage(analysis);
        const string method = "grid-argmin+quadratic-refinement+ols";
        var line = LineFitter.FitLogLog(points.Select(p => p.X).ToList(), points.Select(p => p.Y).ToList());
        if (line is null)
            return NotFitted(LawKeys.All, "The points do not determine a line.", points, evidence, method);
        var bySeed = LawFitting.EverySeedRepeated(grids);
        var widths = points.Select(p => p.X).ToArray();
        var rates = points.Select(p => p.Y).ToArray();
        var boot = Bootstrap.Run(options.BootstrapOrDefault, (_, random) =>
        {
            if (!bySeed)
                return new Sample(widths, rates, Bootstrap.PointWeights(widths.Length, random)).Expanded() is var (px, py)
                    && LineFitter.FitLogLog(px, py) is { } pl ? [pl.Intercept, pl.Slope] : null;
            var (x, y) = ResampledOptima(grids, random);
            return x.Count >= 2 && LineFitter.FitLogLog(x, y) is { } l ? [l.Intercept, l.Slope] : null;
        });
        var fit = Fitted(LawKeys.All,
            new Dictionary<string, double> { ["c"] = line.Intercept, ["d"] = line.Slope },
            LawFitting.Join(message, LawFitting.BootstrapMessage(boot)), line.RSquared, points, evidence,
            method + "+" + (bySeed ? LawFitting.SeedsMethod : LawFitting.PointsMethod));
        return LawFitting.WithUncertainty(fit, boot, ParameterNames, [line.Intercept, line.Slope],
            (p, at) => Math.Exp(p[0] + p[1] * Math.Log(at.Width)), LawFitting.Widths(options));
    }
}

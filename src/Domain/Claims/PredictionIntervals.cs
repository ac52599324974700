using MathNet.Numerics.Distributions;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Claims;

/// <summary>
/// The interval a prediction promises (fitter 3.0.0): where the observation at a width not yet seen will fall, 95% of the
/// time. The bootstrap's interval is the uncertainty of the law's curve given its form and its evidence; it cannot see
/// three things, and this interval adds them, in log space (losses and learning rates are scales):
/// <list type="number">
/// <item>Few seeds. A bootstrap resampling n seeds within a cell shrinks their spread by (n - 1)/n (two seeds: half the
/// variance): its half-widths are scaled by sqrt(n / (n - 1)), n the fewest seeds of a cell of the evidence.</item>
/// <item>The observation's own noise, and the optimum's uncertainty below grid resolution, which every observation of a
/// width carries (a refined optimum is a parabola's vertex through three noisy grid points), and</item>
/// <item>misspecification: how far the law's form misses as width grows.</item>
/// </list>
/// The last two are measured together, out of sample, in the study itself: the law refitted on the widths up to each of
/// its widths but the last missed each wider one by r = ln(observed / predicted) (<see cref="OutOfSample"/>). A miss is
/// taken to grow with how far the prediction reached, one unit plus one per doubling of width beyond the fit's widest
/// (s = r / (1 + doublings)); the k scores give a scale S = sqrt(mean s^2), and a prediction reaching D doublings beyond
/// its fit gets M = t(0.975, k) S (1 + D), Student's t with k degrees of freedom because S is estimated from k misses
/// (one miss: t = 12.7; six: 2.45). With no out-of-sample miss yet (the law fitted on as few widths as it needs and one
/// more, at most), the fit's own residuals stand in with n - p degrees of freedom; with none (a line through two points)
/// nothing is known about the law's form, and the fit claims nothing. Each side's half-width is
/// sqrt((f B)^2 + M^2), B the bootstrap's half-width on that side.
/// <para>From fitter 3.1.0 (a <see cref="Floor"/> given): the misses of one sub-fit at several wider widths share that
/// sub-fit's error, so t's degrees of freedom count the sub-fits that missed (five widths: three, t = 3.18, where 3.0.0
/// counted six misses, t = 2.45); the observation's own spread in ln (the seeds' spread of the observed value at the
/// widths seen, <see cref="Law.ObservationSpread"/>) enters twice: as a weak
/// prior on S (<see cref="PriorMisses"/> pseudo-misses at what noise alone would miss by), so that one lucky or one unlucky
/// miss does not decide S with t = 12.7, and as a floor, M at least 1.96 times the spread, which lucky misses cannot
/// shrink.</para>
/// </summary>
public static class PredictionIntervals
{
    public const double Level = 0.975;

    /// <summary>The floor of fitter 3.1.0: the spread of one observation in ln (null where unknown: no floor, only t's count).</summary>
    public sealed record Floor(double? Spread);

    /// <summary>The fit with its claims' intervals calibrated; a claim that cannot be calibrated loses its interval.</summary>
    /// <param name="residuals">The law's out-of-sample misses (see <see cref="OutOfSample"/>).</param>
    /// <param name="evaluate">The law's value at a point, for the fit's own residuals.</param>
    /// <param name="seeds">The fewest seeds of a cell of the fit's evidence, when its bootstrap resampled seeds; else null.</param>
    public static LawFitted Calibrate(LawFitted fit, IReadOnlyList<OutOfSampleResidual> residuals, int parameterCount,
        Func<LawPoint, double?> evaluate, int? seeds, Floor? floor = null)
    {
        if (!fit.Converged || fit.Predictions is not { Count: > 0 } predictions) return fit;
        var widest = fit.Points.Select(p => p.X).DefaultIfEmpty(0).Max();
        var scale = Scale(fit, residuals, parameterCount, evaluate, floor);
        var f = seeds is > 1 and var n ? Math.Sqrt(n / (n - 1.0)) : 1.0;
        var calibrated = predictions.Select(p =>
        {
            if (scale is not { } s || !(p.Value > 0) || p.Lower is not { } lower || p.Upper is not { } upper)
                return p with { Lower = null, Upper = null, BootstrapLower = p.Lower, BootstrapUpper = p.Upper };
            var reach = widest > 0 ? Math.Max(0, Math.Log2(p.X / widest)) : 0;
            var misfit = Math.Max(s.Quantile * s.Scale * (1 + reach), PredictionResolution.Z95 * (floor?.Spread ?? 0));
            var below = lower > 0 ? Math.Log(p.Value / lower) : double.PositiveInfinity;
            var above = upper > p.Value ? Math.Log(upper / p.Value) : 0;
            return p with
            {
                Lower = double.IsFinite(below) ? p.Value * Math.Exp(-Math.Sqrt(Math.Pow(f * below, 2) + misfit * misfit)) : 0,
                Upper = p.Value * Math.Exp(Math.Sqrt(Math.Pow(f * Math.Max(above, 0), 2) + misfit * misfit)),
                BootstrapLower = lower,
                BootstrapUpper = upper,
            };
        }).ToList();
        return fit with { Predictions = calibrated };
    }

    /// <summary>Pseudo-misses at the observation's own noise that 3.1.0 pools with a law's misses (a weak prior: see the class).</summary>
    public const int PriorMisses = 2;

    /// <summary>
    /// The scale of the law's misses per unit of reach, and the quantile it is taken at; null when nothing is known.
    /// With a <paramref name="floor"/> (3.1.0) the degrees of freedom are the sub-fits that missed, not the misses, and where
    /// the observation's spread is known it is pooled in as <see cref="PriorMisses"/> misses of sqrt(2) spread / 2 (what noise
    /// alone, the new width's and the sub-fit's, makes a miss one doubling ahead score).
    /// </summary>
    public static (double Scale, double Quantile, int DegreesOfFreedom, bool OutOfSample)? Scale(
        LawFitted fit, IReadOnlyList<OutOfSampleResidual> residuals, int parameterCount, Func<LawPoint, double?> evaluate, Floor? floor = null)
    {
        var scored = residuals.Where(r => r.Predicted > 0 && r.Observed > 0).ToList();
        var scores = scored.Select(r => OutOfSample.LogResidual(r) / (1 + OutOfSample.Reach(r))).ToList();
        if (scores.Count > 0)
        {
            var missed = floor is not null ? scored.Select(r => r.FittedUpTo).Distinct().Count() : scores.Count;
            return Pooled(scores.Average(v => v * v), missed, floor, true);
        }
        // No miss out of sample yet: the fit's own residuals, with the degrees of freedom its parameters leave.
        var own = fit.Points.Select(p => (p.Y, Fitted: evaluate(new LawPoint(p.X, p.Z))))
            .Where(p => p.Y > 0 && p.Fitted is > 0).Select(p => Math.Log(p.Y / p.Fitted!.Value)).ToList();
        var df = own.Count - parameterCount;
        if (df < 1) return null;
        return Pooled(own.Sum(v => v * v) / df, df, floor, false);
    }

    /// <summary>
    /// Why a converged fit's claims carry no interval, and so were issued as no prediction, in words a page and the API show
    /// ("fitted on 3 widths: no miss out of sample yet ..."); null where some claim has one (or the fit has none to make).
    /// </summary>
    public static string? WhyNone(LawFitted fit, LawRegistry? laws = null)
    {
        if (!fit.Converged || fit.Predictions is not { Count: > 0 } claims || claims.Any(p => p.Lower is not null && p.Upper is not null)) return null;
        var widths = fit.Points.Select(p => p.X).Distinct().Count();
        var parameters = (laws ?? LawRegistry.Default).Find(fit.Law)?.ParameterCount;
        if (claims.All(p => p.BootstrapLower is null || p.BootstrapUpper is null))
            return fit.BootstrapResamples is > 0
                ? $"the bootstrap made no interval: fitted on {fit.Points.Count} point(s) over {widths} width(s), nothing varied when resampled"
                : "the fit ran no bootstrap";
        if (fit.OutOfSample is not { Count: > 0 })
            return $"fitted on {widths} width(s): no miss out of sample yet (refitted on fewer widths, the law has not yet missed a wider " +
                   $"one) and no more points than its {parameters?.ToString() ?? "?"} parameters to measure its error by";
        return "its claims have no positive value to put an interval around";
    }

    private static (double Scale, double Quantile, int DegreesOfFreedom, bool OutOfSample) Pooled(double variance, int df, Floor? floor, bool outOfSample)
    {
        if (floor?.Spread is { } spread)
        {
            var prior = spread * spread / 2;
            (variance, df) = ((df * variance + PriorMisses * prior) / (df + PriorMisses), df + PriorMisses);
        }
        return (Math.Sqrt(variance), StudentT.InvCDF(0, 1, df, Level), df, outOfSample);
    }
}

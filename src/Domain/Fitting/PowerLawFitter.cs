using MathNet.Numerics;

namespace ScalingLedger.Domain.Fitting;

/// <summary>A fitted <c>L(h) = E + A h^-alpha</c>.</summary>
/// <param name="Converged">False when no optimiser run converged (or too few points); the parameters are then NaN and
/// <paramref name="Message"/> says why.</param>
/// <param name="RSquared">Coefficient of determination on L (not ln L); null when the fit did not converge.</param>
/// <param name="Objective">The Huber objective at the parameters (sum of Huber(residual of ln L)/delta).</param>
/// <param name="StartsConverged">Starts from which L-BFGS converged.</param>
public sealed record PowerLawFit(
    double E, double A, double Alpha, bool Converged, string? Message, double? RSquared, double Objective,
    int StartsConverged, int StartsTried, string Method)
{
    /// <summary>The parameters in the optimiser's layout <c>[ln A, alpha, ln E]</c>.</summary>
    internal double[] Theta => [Math.Log(A), Alpha, Math.Log(E)];
}

/// <summary>
/// <c>L(h) = E + A h^-alpha</c> fitted in log space: <c>ln L = LSE(a - alpha ln h, e)</c> with E = e^e and A = e^a
/// (so E and A stay positive), under a Huber loss (delta 1e-3) on the residuals of ln L, minimised by L-BFGS from
/// a grid of starts.
/// </summary>
public static class PowerLawFitter
{
    public const string Form = "L(h) = E + A h^-alpha";
    public const int ParameterCount = 3;

    /// <summary>
    /// The largest plausible loss exponent: published width, parameter and data exponents are about 0.05 to 1; one at or
    /// below 0 says the loss does not fall with size.
    /// </summary>
    public const double MaxExponent = 3;

    /// <summary>The parameters of a law of this form, in the order it writes them.</summary>
    public static readonly IReadOnlyList<string> ParameterNames = ["E", "A", "alpha"];

    /// <summary>Exponents of the start grid.</summary>
    public static readonly double[] StartAlphas = [0.1, 0.25, 0.5, 1.0, 2.0];

    /// <summary>Floors of the start grid, as fractions of the smallest observed L.</summary>
    public static readonly double[] StartFloorFractions = [0.01, 0.5, 0.9];

    public static double Evaluate(double e, double a, double alpha, double h) => e + a * Math.Pow(h, -alpha);

    /// <summary>
    /// Fits the law to points (x, y), x and y positive. The result does not depend on the order of the points.
    /// Fewer than four points (more points than parameters) give a fit that is not converged and says why.
    /// </summary>
    public static PowerLawFit Fit(IReadOnlyList<double> x, IReadOnlyList<double> y, OptimiserOptions? options = null)
    {
        if (x.Count != y.Count) throw new ArgumentException("x and y must have the same length.");
        if (x.Any(v => !(v > 0) || !double.IsFinite(v)) || y.Any(v => !(v > 0) || !double.IsFinite(v)))
            throw new ArgumentException("x and y must be positive and finite for a power-law fit.");
        var order = Enumerable.Range(0, x.Count).OrderBy(i => x[i]).ThenBy(i => y[i]).ToArray();
        var sx = order.Select(i => x[i]).ToArray();
        var sy = order.Select(i => y[i]).ToArray();
        options ??= new OptimiserOptions();
        if (sx.Distinct().Count() <= ParameterCount)
            return new PowerLawFit(double.NaN, double.NaN, double.NaN, false,
                $"{sx.Distinct().Count()} distinct width(s) cannot determine {ParameterCount} parameters: at least {ParameterCount + 1} are needed.",
                null, double.NaN, 0, 0, "huber-lbfgs");
        var lnX = sx.Select(v => Math.Log(v)).ToArray();
        var lnY = sy.Select(v => Math.Log(v)).ToArray();
        return FitSorted(sx, sy, lnX, lnY, Starts(lnX, sy), options);
    }

    /// <summary>
    /// The data-adaptive start grid: for each exponent in <see cref="StartAlphas"/> and floor E in
    /// <see cref="StartFloorFractions"/> of min y, the A that matches the points on average in log space.
    /// </summary>
    public static IEnumerable<double[]> Starts(double[] lnX, double[] y)
    {
        var floor = y.Min();
        foreach (var alpha in StartAlphas)
            foreach (var fraction in StartFloorFractions)
            {
                var e = fraction * floor;
                var a = 0.0;
                for (var i = 0; i < y.Length; i++) a += Math.Log(y[i] - e) + alpha * lnX[i];
                yield return [a / y.Length, alpha, Math.Log(e)];
            }
    }

    /// <summary>Fits points already in canonical order (ascending x, then y), from the given starts.</summary>
    internal static PowerLawFit FitSorted(
        double[] x, double[] y, double[] lnX, double[] lnY, IEnumerable<double[]> starts, OptimiserOptions options)
    {
        var outcome = HuberLogSumExp.Minimise([lnX], lnY, null, starts, options);
        if (!outcome.Converged)
            return new PowerLawFit(double.NaN, double.NaN, double.NaN, false, outcome.Message, null, double.NaN,
                outcome.StartsConverged, outcome.StartsTried, outcome.Method);
        var (a, alpha, e) = (outcome.Theta[0], outcome.Theta[1], outcome.Theta[2]);
        var (bigE, bigA) = (Math.Exp(e), Math.Exp(a));
        if (!(double.IsFinite(bigE) && double.IsFinite(bigA) && bigA > 0))
            return new PowerLawFit(double.NaN, double.NaN, double.NaN, false, "The fit ran off to non-finite parameters.", null,
                outcome.Objective, outcome.StartsConverged, outcome.StartsTried, outcome.Method);
        var predicted = x.Select(h => Evaluate(bigE, bigA, alpha, h)).ToArray();
        double? r2 = y.Distinct().Count() < 2 ? 1.0 : GoodnessOfFit.CoefficientOfDetermination(predicted, y);
        if (!double.IsFinite(r2.Value)) r2 = null;
        return new PowerLawFit(bigE, bigA, alpha, true, outcome.Message, r2, outcome.Objective,
            outcome.StartsConverged, outcome.StartsTried, outcome.Method);
    }

    /// <summary>
    /// A bootstrap refit: L-BFGS from the full-data optimum only (the resample's optimum lies near it). A resample whose
    /// run does not converge there counts as not converged (the intervals use the others, and the fit's message says how
    /// many): on real, noisy losses such runs are mostly ones whose floor E runs off towards zero, and trying the whole
    /// start grid again for each of them made one fixed-LR power fit of a 432-trial study take about 2 s instead of
    /// about 0.2 s (benchmarks: <c>refit --recording</c>). Returns <c>[E, A, alpha]</c>, or null.
    /// </summary>
    /// <param name="retryStartGrid">Fitter 2.0.0's way, kept for audits of its fits: a resample that does not converge from
    /// the warm start is tried from the whole start grid.</param>
    internal static double[]? Refit(double[] lnX, double[] y, double[] lnY, double[]? weights, double[] warmStart, OptimiserOptions options,
        bool retryStartGrid = false)
    {
        var outcome = HuberLogSumExp.Minimise([lnX], lnY, weights, [warmStart], options, nelderMeadFallback: false);
        if (!outcome.Converged && retryStartGrid) outcome = HuberLogSumExp.Minimise([lnX], lnY, weights, Starts(lnX, y), options);
        if (!outcome.Converged) return null;
        var result = new[] { Math.Exp(outcome.Theta[2]), Math.Exp(outcome.Theta[0]), outcome.Theta[1] };
        return result.All(double.IsFinite) ? result : null;
    }
}

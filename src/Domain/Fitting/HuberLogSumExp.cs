using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace ScalingLedger.Domain.Fitting;

/// <summary>How the nonlinear laws are minimised.</summary>
/// <param name="HuberDelta">Residuals of ln L smaller than this count quadratically, larger ones linearly (Hoffmann et al. use 1e-3).</param>
/// <param name="GradientTolerance">L-BFGS stops when the largest relative gradient component falls below this.</param>
/// <param name="ParameterTolerance">L-BFGS stops when an iteration moves no parameter by more than this (relative).</param>
/// <param name="MaxIterations">An optimiser run that needs more iterations has not converged.</param>
public sealed record OptimiserOptions(
    double HuberDelta = 1e-3,
    double GradientTolerance = 1e-9,
    double ParameterTolerance = 1e-9,
    int MaxIterations = 1000);

/// <summary>The best point of a multi-start minimisation.</summary>
/// <param name="Theta">The parameters; when nothing converged, a start (not a fit).</param>
/// <param name="Objective">The Huber objective at <paramref name="Theta"/> (sum over points of Huber(residual) / delta); NaN when not evaluated.</param>
/// <param name="StartsConverged">How many starts the quasi-Newton optimiser brought to convergence.</param>
/// <param name="StartsTried">How many starts were tried.</param>
/// <param name="Method">The optimiser that produced <paramref name="Theta"/>.</param>
public sealed record MinimisationOutcome(
    double[] Theta, double Objective, bool Converged, string? Message, int StartsConverged, int StartsTried, string Method);

/// <summary>
/// The fit shared by the power law and the Chinchilla law, in log space:
/// <c>ln y = LSE(a_1 - k_1 ln x_1, ..., a_m - k_m ln x_m, e)</c>, i.e. <c>y = e^e + sum_j e^a_j x_j^-k_j</c>,
/// with the Huber loss of the residuals of ln y summed over points (Hoffmann et al. 2022 approach 3;
/// Besiroglu et al. 2024). Parameters are laid out as <c>[a_1..a_m, k_1..k_m, e]</c>.
/// Minimised by MathNet's L-BFGS with the analytic gradient from every start; the best converged run wins.
/// </summary>
public static class HuberLogSumExp
{
    /// <summary>
    /// The objective (sum of Huber(residual)/delta, optionally weighted per point: a bootstrap resample of points is
    /// a vector of multiplicities) and, when <paramref name="gradient"/> is given, its gradient.
    /// Dividing by delta leaves the minimiser unchanged and keeps the objective's scale near the sum of |residuals|.
    /// </summary>
    public static double Objective(
        ReadOnlySpan<double> theta, double[][] lnX, double[] lnY, double[]? weights, double delta, Span<double> gradient)
    {
        var m = lnX.Length;
        var withGradient = !gradient.IsEmpty;
        if (withGradient) gradient.Clear();
        Span<double> terms = stackalloc double[m + 1];
        Span<double> exps = stackalloc double[m + 1];
        var e = theta[2 * m];
        var total = 0.0;
        for (var i = 0; i < lnY.Length; i++)
        {
            var w = weights is null ? 1.0 : weights[i];
            if (w == 0) continue;
            var max = e;
            for (var j = 0; j < m; j++)
            {
                terms[j] = theta[j] - theta[m + j] * lnX[j][i];
                if (terms[j] > max) max = terms[j];
            }
            terms[m] = e;
            var sum = 0.0;
            for (var j = 0; j <= m; j++) sum += exps[j] = terms[j] == max ? 1.0 : Math.Exp(terms[j] - max);
            var lse = max + Math.Log(sum);
            var r = lse - lnY[i];
            // Far from the data the log-sum-exp overflows: that point is no candidate (the optimiser backs off, or the
            // start fails and is counted as not converged).
            if (!double.IsFinite(r)) return double.PositiveInfinity;
            var abs = Math.Abs(r);
            double psi; // d Huber(r) / dr, divided by delta
            if (abs <= delta)
            {
                total += w * r * r / (2 * delta);
                psi = r / delta;
            }
            else
            {
                total += w * (abs - delta / 2);
                psi = r > 0 ? 1.0 : -1.0;
            }
            if (!withGradient) continue;
            var scale = w * psi / sum;
            for (var j = 0; j < m; j++)
            {
                var share = scale * exps[j]; // w psi d lse / d a_j
                gradient[j] += share;
                gradient[m + j] -= share * lnX[j][i];
            }
            gradient[2 * m] += scale * exps[m];
        }
        return total;
    }

    /// <summary>
    /// Minimises from every start and keeps the converged run with the lowest objective (the earliest start on ties, so
    /// the result does not depend on <paramref name="maxDegreeOfParallelism"/>). When no L-BFGS run converges,
    /// Nelder-Mead is tried from the start with the lowest objective; when that fails too, the outcome is not converged,
    /// carries that start as its parameters and says why. Without <paramref name="nelderMeadFallback"/> a failure
    /// returns at once (a caller with its own fallback).
    /// The optimiser works on centred features (ln x minus its mean, the intercepts shifted to match): the same
    /// function and the same starting points, better conditioned.
    /// </summary>
    public static MinimisationOutcome Minimise(
        double[][] lnX, double[] lnY, double[]? weights, IEnumerable<double[]> starts, OptimiserOptions options,
        int maxDegreeOfParallelism = 1, bool nelderMeadFallback = true)
    {
        var m = lnX.Length;
        var p = 2 * m + 1;
        var startList = starts.ToList();
        if (startList.Count == 0) throw new ArgumentException("At least one start is needed.", nameof(starts));
        if (startList.Any(s => s.Length != p)) throw new ArgumentException($"A start needs {p} parameters.", nameof(starts));
        var centre = lnX.Select(column => column.Average()).ToArray();
        var centred = lnX.Select((column, j) => column.Select(v => v - centre[j]).ToArray()).ToArray();
        double[] ToCentred(double[] theta)
        {
            var c = (double[])theta.Clone();
            for (var j = 0; j < m; j++) c[j] -= theta[m + j] * centre[j];
            return c;
        }
        double[] FromCentred(double[] c)
        {
            var theta = (double[])c.Clone();
            for (var j = 0; j < m; j++) theta[j] += c[m + j] * centre[j];
            return theta;
        }

        var runs = new (double[]? Theta, double Value, string? Failure)[startList.Count];
        if (maxDegreeOfParallelism == 1 || startList.Count == 1)
            for (var i = 0; i < runs.Length; i++) runs[i] = RunLbfgs(centred, lnY, weights, ToCentred(startList[i]), options);
        else
            Parallel.For(0, startList.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
                i => runs[i] = RunLbfgs(centred, lnY, weights, ToCentred(startList[i]), options));
        var converged = runs.Count(r => r.Theta is not null);
        var bestRun = -1;
        for (var i = 0; i < runs.Length; i++)
            if (runs[i].Theta is not null && (bestRun < 0 || runs[i].Value < runs[bestRun].Value)) bestRun = i;
        if (bestRun >= 0)
        {
            var theta = FromCentred(runs[bestRun].Theta!);
            return new MinimisationOutcome(theta, Objective(theta, lnX, lnY, weights, options.HuberDelta, default),
                true, null, converged, startList.Count, "huber-lbfgs");
        }

        var firstFailure = runs.Select(r => r.Failure).FirstOrDefault(f => f is not null);
        if (!nelderMeadFallback)
            return new MinimisationOutcome(startList[0], double.NaN, false,
                $"Did not converge: L-BFGS from none of {startList.Count} start(s) ({firstFailure}).", 0, startList.Count, "huber-lbfgs");
        var startValues = startList.Select(s => Objective(s, lnX, lnY, weights, options.HuberDelta, default)).ToArray();
        var bestStart = 0;
        for (var i = 1; i < startValues.Length; i++)
            if (startValues[i] < startValues[bestStart] || !double.IsFinite(startValues[bestStart])) bestStart = i;
        var (nm, _, nmFailure) = RunNelderMead(centred, lnY, weights, ToCentred(startList[bestStart]), options);
        if (nm is not null)
        {
            var theta = FromCentred(nm);
            return new MinimisationOutcome(theta, Objective(theta, lnX, lnY, weights, options.HuberDelta, default), true,
                $"L-BFGS converged from none of {startList.Count} start(s) ({firstFailure}); Nelder-Mead from the best start did.",
                0, startList.Count, "huber-nelder-mead");
        }
        return new MinimisationOutcome(startList[bestStart], startValues[bestStart], false,
            $"Did not converge: L-BFGS from none of {startList.Count} start(s) ({firstFailure}), nor Nelder-Mead ({nmFailure}).",
            0, startList.Count, "huber-lbfgs");
    }

    private static (double[]? Theta, double Value, string? Failure) RunLbfgs(
        double[][] lnX, double[] lnY, double[]? weights, double[] start, OptimiserOptions options) =>
        Lbfgs((theta, g) => Objective(theta, lnX, lnY, weights, options.HuberDelta, g), start, options);

    /// <summary>
    /// L-BFGS (MathNet) from one start over an objective that fills its gradient: the parameters and value at the minimum,
    /// or why it did not converge. Shared by every nonlinear law.
    /// </summary>
    internal static (double[]? Theta, double Value, string? Failure) Lbfgs(
        Func<double[], double[], double> valueAndGradient, double[] start, OptimiserOptions options)
    {
        var p = start.Length;
        var objective = ObjectiveFunction.Gradient(v =>
        {
            var theta = v.AsArray() ?? v.ToArray();
            var g = new double[p];
            var value = valueAndGradient(theta, g);
            return (value, Vector<double>.Build.Dense(g));
        });
        var minimiser = new LimitedMemoryBfgsMinimizer(
            options.GradientTolerance, options.ParameterTolerance, 0, memory: 5, maximumIterations: options.MaxIterations);
        try
        {
            var result = minimiser.FindMinimum(objective, Vector<double>.Build.Dense((double[])start.Clone()));
            // MathNet 5.0.0's L-BFGS does not throw at its iteration limit: it returns with Iterations = limit + 1.
            if (result.Iterations > options.MaxIterations)
                return (null, double.NaN, $"Maximum iterations ({options.MaxIterations}) reached.");
            var theta = result.MinimizingPoint.ToArray();
            var value = result.FunctionInfoAtMinimum.Value;
            return theta.All(double.IsFinite) && double.IsFinite(value)
                ? (theta, value, null)
                : (null, double.NaN, "non-finite result");
        }
        catch (Exception ex) when (ex is OptimizationException or ArithmeticException or ArgumentException)
        {
            // A start that runs into non-finite values is a start that did not converge, never a crash of the fit.
            return (null, double.NaN, ex.Message);
        }
    }

    /// <summary>The Huber loss of a residual divided by delta, and its derivative (<paramref name="psi"/>).</summary>
    internal static double Huber(double r, double delta, out double psi)
    {
        var abs = Math.Abs(r);
        if (abs <= delta)
        {
            psi = r / delta;
            return r * r / (2 * delta);
        }
        psi = r > 0 ? 1.0 : -1.0;
        return abs - delta / 2;
    }

    private static (double[]? Theta, double Value, string? Failure) RunNelderMead(
        double[][] lnX, double[] lnY, double[]? weights, double[] start, OptimiserOptions options)
    {
        var objective = ObjectiveFunction.Value(v =>
            Objective(v.AsArray() ?? v.ToArray(), lnX, lnY, weights, options.HuberDelta, default));
        try
        {
            var result = NelderMeadSimplex.Minimum(objective, Vector<double>.Build.Dense((double[])start.Clone()),
                1e-12, Math.Max(options.MaxIterations, 1) * 10);
            var theta = result.MinimizingPoint.ToArray();
            var value = result.FunctionInfoAtMinimum.Value;
            return theta.All(double.IsFinite) && double.IsFinite(value) ? (theta, value, null) : (null, double.NaN, "non-finite result");
        }
        catch (Exception ex) when (ex is OptimizationException or ArithmeticException or ArgumentException)
        {
            // A start that runs into non-finite values is a start that did not converge, never a crash of the fit.
            return (null, double.NaN, ex.Message);
        }
    }
}

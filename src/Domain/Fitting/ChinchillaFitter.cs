using MathNet.Numerics;
using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Fitting;

/// <summary>A prediction of the Chinchilla law at (N, D) with the 95% bootstrap interval of the predictions there.</summary>
public sealed record ChinchillaPrediction(double N, double D, double Value, double? Lower, double? Upper);

/// <summary>A fitted <c>L(N, D) = E + A/N^alpha + B/D^beta</c>.</summary>
/// <param name="Converged">False when no optimiser run converged (or too few runs); the parameters are then NaN and
/// <paramref name="Message"/> says why.</param>
/// <param name="RSquared">Coefficient of determination on L; null when not converged.</param>
/// <param name="Objective">Sum over points of Huber(residual of ln L)/delta at the parameters.</param>
/// <param name="Intervals">95% percentile-bootstrap intervals (resampling points) of E, A, B, alpha and beta.</param>
public sealed record ChinchillaFit(
    double E, double A, double B, double Alpha, double Beta, bool Converged, string? Message, double? RSquared, double Objective,
    int StartsConverged, int StartsTried, string Method, IReadOnlyDictionary<string, ParameterInterval> Intervals,
    int BootstrapSeed, int BootstrapResamples, int BootstrapConverged, IReadOnlyList<ChinchillaPrediction> Predictions)
{

    /// <summary>The parameters by name, as a recorded fit carries them.</summary>
    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double>
    {
        ["E"] = E, ["A"] = A, ["B"] = B, ["alpha"] = Alpha, ["beta"] = Beta,
    };
}

/// <summary>How the Chinchilla law is fitted.</summary>
/// <param name="Starts">Starting points in the optimiser's layout <c>[a, b, alpha, beta, e]</c>; null: <see cref="ChinchillaFitter.EpochGrid"/>.</param>
/// <param name="PredictAt">(N, D) points to predict at.</param>
/// <param name="MaxDegreeOfParallelism">Threads for the starts (-1: all cores). The result does not depend on it.</param>
public sealed record ChinchillaOptions(
    IReadOnlyList<double[]>? Starts = null, BootstrapOptions? Bootstrap = null, OptimiserOptions? Optimiser = null,
    IReadOnlyList<(double N, double D)>? PredictAt = null, int MaxDegreeOfParallelism = -1);

/// <summary>
/// Hoffmann et al. (2022) approach 3 as replicated by Besiroglu et al. (2024, arXiv 2404.10102):
/// <c>ln L = LSE(a - alpha ln N, b - beta ln D, e)</c> with A = e^a, B = e^b, E = e^e, under a Huber loss
/// (delta 1e-3) on the residuals of ln L summed over points, minimised by L-BFGS from a grid of starts, best kept.
/// Uncertainty: percentile bootstrap over points, each resample refitted from the full-data optimum.
/// </summary>
public static class ChinchillaFitter
{
    public const string Form = "L(N, D) = E + A/N^alpha + B/D^beta";
    public const int ParameterCount = 5;

    public static double Evaluate(double e, double a, double b, double alpha, double beta, double n, double d) =>
        e + a * Math.Pow(n, -alpha) + b * Math.Pow(d, -beta);

    /// <summary>
    /// The replication's grid: alpha, beta in {0, 0.5, 1, 1.5, 2}, e in {-1, -0.5, 0, 0.5, 1, 1.5},
    /// a, b in {0, 5, 10, 15, 20, 25} (5,400 starts), in the layout <c>[a, b, alpha, beta, e]</c>.
    /// </summary>
    public static IReadOnlyList<double[]> EpochGrid { get; } = Grid(
        alphas: [0, 0.5, 1, 1.5, 2], betas: [0, 0.5, 1, 1.5, 2], es: [-1, -0.5, 0, 0.5, 1, 1.5],
        aValues: [0, 5, 10, 15, 20, 25], bValues: [0, 5, 10, 15, 20, 25]);

    /// <summary>The Cartesian grid of starts, in a fixed order (alpha, beta, e, a, b; the last varies fastest).</summary>
    public static IReadOnlyList<double[]> Grid(
        IReadOnlyList<double> alphas, IReadOnlyList<double> betas, IReadOnlyList<double> es,
        IReadOnlyList<double> aValues, IReadOnlyList<double> bValues) =>
        (from alpha in alphas from beta in betas from e in es from a in aValues from b in bValues
         select new[] { a, b, alpha, beta, e }).ToList();

    /// <summary>
    /// Fits the law to runs with N parameters, D tokens and final loss L (all positive). The result does not depend on
    /// the order of the runs. Fewer than six runs give a fit that is not converged and says why.
    /// </summary>
    public static ChinchillaFit Fit(
        IReadOnlyList<double> n, IReadOnlyList<double> d, IReadOnlyList<double> loss, ChinchillaOptions? options = null)
    {
        if (n.Count != d.Count || n.Count != loss.Count) throw new ArgumentException("N, D and L must have the same length.");
        if (n.Concat(d).Concat(loss).Any(v => !(v > 0) || !double.IsFinite(v)))
            throw new ArgumentException("N, D and L must be positive and finite.");
        options ??= new ChinchillaOptions();
        var boot = options.Bootstrap ?? new BootstrapOptions();
        var optimiser = options.Optimiser ?? new OptimiserOptions();
        if (n.Count <= ParameterCount)
            return NotConverged($"{n.Count} run(s) cannot determine {ParameterCount} parameters: at least {ParameterCount + 1} are needed.",
                0, 0, boot);

        var order = Enumerable.Range(0, n.Count).OrderBy(i => n[i]).ThenBy(i => d[i]).ThenBy(i => loss[i]).ToArray();
        var lnX = new[] { order.Select(i => Math.Log(n[i])).ToArray(), order.Select(i => Math.Log(d[i])).ToArray() };
        var y = order.Select(i => loss[i]).ToArray();
        var lnY = y.Select(v => Math.Log(v)).ToArray();
        var outcome = HuberLogSumExp.Minimise(lnX, lnY, null, options.Starts ?? EpochGrid, optimiser, options.MaxDegreeOfParallelism);
        if (!outcome.Converged) return NotConverged(outcome.Message!, outcome.StartsConverged, outcome.StartsTried, boot);
        var estimate = ToParameters(outcome.Theta);
        if (!estimate.All(double.IsFinite))
            return NotConverged("The fit ran off to non-finite parameters.", outcome.StartsConverged, outcome.StartsTried, boot);

        var predicted = order.Select(i => Evaluate(estimate[0], estimate[1], estimate[2], estimate[3], estimate[4], n[i], d[i])).ToArray();
        double? r2 = GoodnessOfFit.CoefficientOfDetermination(predicted, y);
        if (!double.IsFinite(r2.Value)) r2 = null;

        var warm = outcome.Theta;
        var replicates = Bootstrap.Run(boot, (_, random) =>
        {
            var weights = Bootstrap.PointWeights(y.Length, random);
            var refit = HuberLogSumExp.Minimise(lnX, lnY, weights, [warm], optimiser);
            return refit.Converged && ToParameters(refit.Theta) is var p && p.All(double.IsFinite) ? p : null;
        });
        string[] names = ["E", "A", "B", "alpha", "beta"];
        var intervals = new Dictionary<string, ParameterInterval>();
        for (var i = 0; i < names.Length; i++)
            if (replicates.Interval(p => p[i]) is { } interval) intervals[names[i]] = interval;
        var predictions = (options.PredictAt ?? []).Select(at =>
        {
            var interval = replicates.Interval(p => Evaluate(p[0], p[1], p[2], p[3], p[4], at.N, at.D));
            return new ChinchillaPrediction(at.N, at.D, Evaluate(estimate[0], estimate[1], estimate[2], estimate[3], estimate[4], at.N, at.D),
                interval?.Lower, interval?.Upper);
        }).ToList();
        var message = replicates.Converged.Count < boot.Resamples
            ? $"{replicates.Converged.Count} of {boot.Resamples} bootstrap resamples converged; the intervals use those."
            : null;
        return new ChinchillaFit(estimate[0], estimate[1], estimate[2], estimate[3], estimate[4], true,
            outcome.Message is null ? message : outcome.Message + (message is null ? "" : " " + message), r2, outcome.Objective,
            outcome.StartsConverged, outcome.StartsTried, outcome.Method + "+bootstrap-points", intervals,
            boot.Seed, boot.Resamples, replicates.Converged.Count, predictions);
    }

    /// <summary><c>[E, A, B, alpha, beta]</c> from the optimiser's <c>[a, b, alpha, beta, e]</c>.</summary>
    private static double[] ToParameters(double[] theta) =>
        [Math.Exp(theta[4]), Math.Exp(theta[0]), Math.Exp(theta[1]), theta[2], theta[3]];

    private static ChinchillaFit NotConverged(string message, int startsConverged, int startsTried, BootstrapOptions boot) =>
        new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, false, message, null, double.NaN, startsConverged, startsTried,
            "huber-lbfgs", new Dictionary<string, ParameterInterval>(), boot.Seed, 0, 0, []);
}

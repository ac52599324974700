using MathNet.Numerics.Statistics;
using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Fitting;

/// <summary>How a fit's uncertainty is estimated.</summary>
/// <param name="Resamples">Bootstrap resamples per fit; 0 skips the bootstrap (no intervals).</param>
/// <param name="Seed">The recorded random seed: the same evidence and seed give the same intervals, bit for bit.</param>
/// <param name="MaxDegreeOfParallelism">Threads for the resamples (-1: all cores). The result does not depend on it.</param>
public sealed record BootstrapOptions(int Resamples = 1000, int Seed = BootstrapOptions.DefaultSeed, int MaxDegreeOfParallelism = -1)
{
    public const int DefaultSeed = 20_240_417;
}

/// <summary>The replicates of a bootstrap: one parameter vector per resample whose fit converged, in resample order.</summary>
public sealed record BootstrapReplicates(int Seed, int Resamples, IReadOnlyList<double[]> Converged)
{
    /// <summary>The 95% percentile interval of one quantity over the converged replicates; null with fewer than two.</summary>
    public ParameterInterval? Interval(Func<double[], double> quantity) =>
        Bootstrap.PercentileInterval(Converged.Select(quantity));
}

/// <summary>
/// Percentile bootstrap with a recorded seed. Every resample draws from its own generator, seeded from the
/// recorded seed and the resample's index, so resamples can run in parallel and still give the same numbers.
/// </summary>
public static class Bootstrap
{
    public const double Level = 0.95;

    /// <summary>
    /// The generator of resample <paramref name="index"/>: <see cref="Random(int)"/>, whose seeded sequence .NET keeps
    /// stable across versions, seeded by a SplitMix64 mix of the recorded seed and the index.
    /// </summary>
    public static Random RandomFor(int seed, int index)
    {
        var z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)index + 0x632BE59BD9B9B3A5UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return new Random((int)(z & 0x7FFFFFFF));
    }

    /// <summary>
    /// Runs <paramref name="replicate"/> for every resample index (in parallel) and keeps the parameter vectors of
    /// the resamples that converged (a null result means the resample's fit did not converge).
    /// </summary>
    public static BootstrapReplicates Run(BootstrapOptions options, Func<int, Random, double[]?> replicate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.Resamples);
        var results = new double[]?[options.Resamples];
        Parallel.For(0, options.Resamples, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism },
            r => results[r] = replicate(r, RandomFor(options.Seed, r)));
        return new BootstrapReplicates(options.Seed, options.Resamples, results.Where(p => p is not null).Select(p => p!).ToList());
    }

    /// <summary>The central 95% percentile interval (quantiles by R's type 7, numpy's default); null with fewer than two values.</summary>
    public static ParameterInterval? PercentileInterval(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).ToArray();
        if (sorted.Length < 2) return null;
        Array.Sort(sorted);
        var tail = (1 - Level) / 2;
        return new ParameterInterval(
            SortedArrayStatistics.QuantileCustom(sorted, tail, QuantileDefinition.R7),
            SortedArrayStatistics.QuantileCustom(sorted, 1 - tail, QuantileDefinition.R7));
    }

    /// <summary>Multiplicities of a resample of <paramref name="n"/> points drawn with replacement.</summary>
    public static double[] PointWeights(int n, Random random)
    {
        var weights = new double[n];
        for (var i = 0; i < n; i++) weights[random.Next(n)]++;
        return weights;
    }

    /// <summary>The mean of <paramref name="values"/> resampled with replacement (the same count).</summary>
    public static double ResampledMean(IReadOnlyList<double> values, Random random)
    {
        var sum = 0.0;
        for (var i = 0; i < values.Count; i++) sum += values[random.Next(values.Count)];
        return sum / values.Count;
    }
}

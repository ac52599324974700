using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;

namespace ScalingLedger.Domain.Laws;

/// <summary>One bootstrap resample of a law's points: x, y and the multiplicity of each point (null: once each).</summary>
internal sealed record Sample(double[] X, double[] Y, double[]? Weights)
{
    /// <summary>The points repeated by their multiplicities, for the least-squares laws.</summary>
    public (List<double> X, List<double> Y) Expanded()
    {
        var (x, y) = (new List<double>(X.Length), new List<double>(X.Length));
        for (var i = 0; i < X.Length; i++)
            for (var k = 0; k < (Weights is null ? 1 : (int)Weights[i]); k++)
            {
                x.Add(X[i]);
                y.Add(Y[i]);
            }
        return (x, y);
    }
}

/// <summary>The mechanics the laws share: bootstrap intervals and predictions, messages, the power-law fit.</summary>
internal static class LawFitting
{
    public const string SeedsMethod = "bootstrap-seeds";
    public const string PointsMethod = "bootstrap-points";

    /// <summary>The law's parameters' intervals and its predictions at <paramref name="at"/>, with the bootstrap's counts.</summary>
    public static LawFitted WithUncertainty(
        LawFitted fit, BootstrapReplicates boot, IReadOnlyList<string> names, double[] estimate, Func<double[], LawPoint, double> predict,
        IEnumerable<LawPoint> at)
    {
        var intervals = new Dictionary<string, ParameterInterval>();
        for (var i = 0; i < names.Count; i++)
            if (boot.Interval(p => p[i]) is { } interval) intervals[names[i]] = interval;
        var predictions = at.Where(p => p.Width > 0).Distinct()
            .Select(p => (Point: p, Value: predict(estimate, p), Interval: boot.Interval(q => predict(q, p))))
            .Where(p => double.IsFinite(p.Value))
            .Select(p => new FitPrediction(p.Point.Width, p.Value, p.Interval?.Lower, p.Interval?.Upper, p.Point.LearningRate))
            .ToList();
        return fit with
        {
            Intervals = intervals,
            BootstrapSeed = boot.Seed,
            BootstrapResamples = boot.Resamples,
            BootstrapConverged = boot.Converged.Count,
            Predictions = predictions,
        };
    }

    /// <summary>The widths to predict at, in ascending order, each at the law's own rate.</summary>
    public static IEnumerable<LawPoint> Widths(FitOptions options) =>
        (options.PredictAt ?? []).Where(h => h > 0).Distinct().Order().Select(h => new LawPoint(h));

    public static string? BootstrapMessage(BootstrapReplicates boot) =>
        boot.Converged.Count < boot.Resamples
            ? $"{boot.Converged.Count} of {boot.Resamples} bootstrap resamples converged; the intervals use those."
            : null;

    public static string? Join(params string?[] parts) =>
        parts.Where(p => p is not null).ToList() is { Count: > 0 } some ? string.Join(" ", some) : null;

    /// <summary>Every (width, rate) cell with a result has at least two seeds: the bootstrap can resample seeds.</summary>
    public static bool EverySeedRepeated(IEnumerable<WidthGrid> grids) =>
        grids.SelectMany(g => g.Outcomes).Where(o => o.Length > 0).All(o => o.Length >= 2);

    /// <summary>
    /// <c>L(h) = E + A h^-alpha</c> over (<paramref name="widths"/>, <paramref name="y"/>) with its bootstrap: each resample
    /// (<paramref name="resample"/>) refitted from the full fit's optimum.
    /// </summary>
    public static LawFitted PowerFit(
        Law law, string key, double[] widths, double[] y, IReadOnlyList<FitPoint> points, IReadOnlyList<Guid> evidence,
        string? message, Dictionary<string, double> extra, Func<Random, Sample> resample, string bootstrapMethod, FitOptions options)
    {
        var optimiser = options.OptimiserOrDefault;
        var fit = PowerLawFitter.Fit(widths, y, optimiser);
        if (!fit.Converged)
            return law.NotFitted(key, Join(message, fit.Message), points, evidence, fit.Method) with
            {
                Parameters = extra,
                StartsConverged = fit.StartsConverged,
                StartsTried = fit.StartsTried,
            };
        var warm = fit.Theta;
        var boot = Bootstrap.Run(options.BootstrapOrDefault, (_, random) =>
        {
            var sample = resample(random);
            var keep = Enumerable.Range(0, sample.Y.Length)
                .Where(i => sample.Y[i] > 0 && double.IsFinite(sample.Y[i]) && (sample.Weights is null || sample.Weights[i] > 0))
                .ToArray();
            // A resample needs as many distinct widths as the law has parameters.
            if (keep.Length < PowerLawFitter.ParameterCount) return null;
            var yr = keep.Select(i => sample.Y[i]).ToArray();
            return PowerLawFitter.Refit(keep.Select(i => Math.Log(sample.X[i])).ToArray(), yr, yr.Select(v => Math.Log(v)).ToArray(),
                sample.Weights is { } w ? keep.Select(i => w[i]).ToArray() : null, warm, optimiser, options.BootstrapRetriesStartGrid);
        });
        var parameters = new Dictionary<string, double>(extra) { ["E"] = fit.E, ["A"] = fit.A, ["alpha"] = fit.Alpha };
        var result = law.Fitted(key, parameters, Join(message, BootstrapMessage(boot)), fit.RSquared, points, evidence,
            fit.Method + "+" + bootstrapMethod) with
        {
            StartsConverged = fit.StartsConverged,
            StartsTried = fit.StartsTried,
        };
        return WithUncertainty(result, boot, PowerLawFitter.ParameterNames, [fit.E, fit.A, fit.Alpha],
            (p, at) => PowerLawFitter.Evaluate(p[0], p[1], p[2], at.Width), Widths(options));
    }
}

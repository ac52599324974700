using System.Globalization;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>A fit before it is recorded: everything of <see cref="LawFitted"/> but identity, sequence and time.</summary>
/// <param name="Intervals">95% percentile-bootstrap intervals of the fitted parameters (absent when not converged).</param>
/// <param name="BootstrapSeed">The seed the bootstrap drew from: the same evidence and seed give the same intervals.</param>
/// <param name="BootstrapResamples">Resamples drawn.</param>
/// <param name="BootstrapConverged">Resamples whose refit converged; the intervals use those.</param>
/// <param name="StartsConverged">Nonlinear laws: optimiser starts that converged.</param>
/// <param name="StartsTried">Nonlinear laws: optimiser starts tried.</param>
/// <param name="Predictions">The law's value at the requested widths, with the bootstrap interval of the prediction.</param>
public sealed record FitResult(
    string Law,
    string Key,
    string Form,
    IReadOnlyDictionary<string, double> Parameters,
    bool Converged,
    string? Message,
    double? RSquared,
    IReadOnlyList<FitPoint> Points,
    IReadOnlyList<Guid> EvidenceTrialIds,
    string Method,
    IReadOnlyDictionary<string, ParameterInterval>? Intervals = null,
    int? BootstrapSeed = null,
    int? BootstrapResamples = null,
    int? BootstrapConverged = null,
    int? StartsConverged = null,
    int? StartsTried = null,
    IReadOnlyList<FitPrediction>? Predictions = null);

public static class LawNames
{
    public const string FixedLrLogLinear = "fixed-lr-loglinear";
    public const string FixedLrPower = "fixed-lr-power";
    public const string TunedFrontierPower = "tuned-frontier-power";
    public const string OptimalLr = "optimal-lr";
    public const string Chinchilla = "chinchilla";
}

/// <summary>How a study's laws are fitted.</summary>
/// <param name="PredictAt">Widths to predict at; null: the study's widths and target widths.</param>
/// <param name="Fitter">The fitter version whose method to use (null: this one, <see cref="LawEngine.FitterVersion"/>); an audit
/// re-derives a fit with the method of the version that recorded it (see <see cref="LawEngine.SupportedFitterVersions"/>).</param>
public sealed record FitOptions(BootstrapOptions? Bootstrap = null, OptimiserOptions? Optimiser = null, IReadOnlyList<double>? PredictAt = null,
    string? Fitter = null)
{
    /// <summary>2.0.0 took a width's optimum even when a rate beside it had no result (2.1.0 leaves such widths out).</summary>
    public bool ExcludesHoles => Fitter != "2.0.0";

    /// <summary>2.0.0 retried a bootstrap resample that did not converge from the full fit from the whole start grid.</summary>
    public bool BootstrapRetriesStartGrid => Fitter == "2.0.0";
}

/// <summary>A law's claim at one width.</summary>
public sealed record LawPrediction(string Law, string Key, double Width, double Value, double? Lower, double? Upper);

/// <summary>
/// Fits every law a study's evidence supports. Deterministic: the same trials (and options) give the same fits,
/// bootstrap intervals included.
/// </summary>
public static class LawEngine
{
    /// <summary>Changes whenever a fit of the same evidence could give different numbers.</summary>
    public const string FitterVersion = "2.1.0";

    /// <summary>
    /// The fitter versions whose method this ledger still runs, so that an audit re-derives a fit the way it was made:
    /// 2.0.0 (holes absorbed, bootstrap resamples retried from the whole start grid) and 2.1.0.
    /// </summary>
    public static readonly IReadOnlyList<string> SupportedFitterVersions = ["2.0.0", FitterVersion];

    public const string LogLinearForm = "L(h) = a + b ln h";
    public const string OptimalLrForm = "ln lr*(h) = c + d ln h";

    /// <summary>
    /// Every law of the study: <c>fixed-lr-loglinear</c> and <c>fixed-lr-power</c> per learning rate,
    /// <c>tuned-frontier-power</c> and <c>optimal-lr</c>, each with bootstrap intervals and predictions at
    /// <see cref="FitOptions.PredictAt"/> (by default the study's widths and target widths).
    /// </summary>
    public static IReadOnlyList<FitResult> FitAll(StudyView study, FitOptions? options = null) =>
        FitAll(study.Trials, study.Spec, options);

    public static IReadOnlyList<FitResult> FitAll(IReadOnlyList<TrialView> trials, StudySpec? spec, FitOptions? options = null) =>
        Candidates(trials, spec, options).Select(c => c.Fit()).ToList();

    /// <summary>What every law would fit over these trials, with its evidence, before any fitting is done.</summary>
    public static IReadOnlyList<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, StudySpec? spec, FitOptions? options = null)
    {
        options = WithDefaultWidths(trials, spec, options);
        return LawRegistry.All.SelectMany(law => law.Candidates(trials, options)).ToList();
    }

    /// <summary>
    /// The fits whose evidence, points or fitter version differ from the latest recorded fit of the same law and key,
    /// and only those are fitted: refitting the same evidence records nothing, and an ended trial refits only the laws
    /// its result enters (its rate's fixed-LR laws; the frontier and optimal-LR laws once its width's row has ended).
    /// </summary>
    public static IReadOnlyList<FitResult> NewFits(IReadOnlyList<TrialView> trials, StudySpec? spec, IReadOnlyList<LawFitted> latest,
        FitOptions? options = null, Func<string, bool>? laws = null) =>
        Pending(trials, spec, latest, options, laws).Select(c => c.Fit()).ToList();

    /// <summary>The candidates (of <paramref name="laws"/>, or all) whose latest recorded fit is not of their evidence: nothing is fitted.</summary>
    public static IReadOnlyList<LawCandidate> Pending(IReadOnlyList<TrialView> trials, StudySpec? spec, IReadOnlyList<LawFitted> latest,
        FitOptions? options = null, Func<string, bool>? laws = null) =>
        Candidates(trials, spec, options).Where(c => laws?.Invoke(c.Law) != false).Where(c =>
        {
            var last = latest.FirstOrDefault(l => l.Law == c.Law && l.Key == c.Key);
            return last is null || last.FitterVersion != FitterVersion
                || !last.EvidenceTrialIds.Order().SequenceEqual(c.Evidence.Order())
                || !last.Points.SequenceEqual(c.Points);
        }).ToList();

    public static IReadOnlyList<FitResult> NewFits(StudyView study, FitOptions? options = null) =>
        NewFits(study.Trials, study.Spec, study.LatestFits, options);

    /// <summary>One law's fit for one key over these trials (an audit re-derives just the fit it audits), or null.</summary>
    public static FitResult? Fit(IReadOnlyList<TrialView> trials, StudySpec? spec, string law, string key, FitOptions? options = null) =>
        LawRegistry.Find(law) is { } found
            ? found.Candidates(trials, WithDefaultWidths(trials, spec, options)).FirstOrDefault(c => c.Key == key)?.Fit()
            : null;

    /// <summary>Every converged law's prediction at <paramref name="widths"/>, from a fresh (deterministic) fit of the study.</summary>
    public static IReadOnlyList<LawPrediction> Predict(StudyView study, IReadOnlyList<double> widths, FitOptions? options = null) =>
        FitAll(study, (options ?? new FitOptions()) with { PredictAt = widths })
            .Where(f => f.Converged)
            .SelectMany(f => (f.Predictions ?? []).Select(p => new LawPrediction(f.Law, f.Key, p.X, p.Value, p.Lower, p.Upper)))
            .ToList();

    /// <summary>The law's point value at <paramref name="width"/> from a fit's parameters; null when it did not converge.</summary>
    public static double? Evaluate(FitResult fit, double width) =>
        fit.Converged ? LawRegistry.Find(fit.Law)?.Evaluate(fit.Parameters, width) : null;

    /// <summary>
    /// The starts of the Chinchilla fit in a study: 675 of the replication's 5,400 (alpha, beta in {0, 0.5, 1, 1.5, 2},
    /// e in {-1, 0, 1}, a, b in {0, 10, 20}); on the replication's data every start that converges reaches the same optimum.
    /// </summary>
    public static IReadOnlyList<double[]> ChinchillaStarts { get; } =
        ChinchillaLaw.Grid([0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2], [-1, 0, 1], [0, 10, 20], [0, 10, 20]);

    /// <summary>
    /// <c>L(N, D) = E + A/N^alpha + B/D^beta</c> over the runs that have both a parameter count and tokens (imported
    /// runs), fitted the replication's way; null when no run has both.
    /// </summary>
    public static FitResult? ChinchillaOf(IEnumerable<TrialView> trials, FitOptions? options = null)
    {
        var runs = ChinchillaRuns(trials);
        if (runs.Count == 0) return null;
        options ??= new FitOptions();
        var fit = ChinchillaLaw.Fit(runs.Select(t => t.Params!.Value).ToList(), runs.Select(t => t.Tokens!.Value).ToList(),
            runs.Select(t => t.FinalEvalLoss!.Value).ToList(), new ChinchillaOptions(ChinchillaStarts, Boot(options), options.Optimiser));
        var points = runs.Select(t => new FitPoint(t.Params!.Value, t.FinalEvalLoss!.Value, t.Tokens)).ToList();
        var evidence = runs.Select(t => t.TrialId).ToList();
        return fit.Converged
            ? new FitResult(LawNames.Chinchilla, "all", ChinchillaLaw.Form, fit.Parameters, true, fit.Message, fit.RSquared, points, evidence,
                fit.Method, fit.Intervals, fit.BootstrapSeed, fit.BootstrapResamples, fit.BootstrapConverged, fit.StartsConverged, fit.StartsTried)
            : new FitResult(LawNames.Chinchilla, "all", ChinchillaLaw.Form, new Dictionary<string, double>(), false, fit.Message, null, points,
                evidence, fit.Method, StartsConverged: fit.StartsConverged, StartsTried: fit.StartsTried);
    }

    /// <summary>The imported runs with a parameter count, tokens and a finite loss, in import order.</summary>
    public static IReadOnlyList<TrialView> ChinchillaRuns(IEnumerable<TrialView> trials) =>
        trials.Where(t => t.Params is > 0 && t.Tokens is > 0 && t.FinalEvalLoss is { } l && l > 0 && double.IsFinite(l))
            .OrderBy(t => t.Order).ToList();

    /// <summary><c>L(h) = a + b ln h</c> per learning rate, over the mean final eval loss of completed trials at each width.</summary>
    public static IEnumerable<FitResult> FixedLrLogLinear(IEnumerable<TrialView> trials, FitOptions? options = null) =>
        FixedLrData.Of(trials).Where(lr => lr.Points.Count >= 2).Select(lr => FitLogLinear(lr, options ?? new FitOptions()));

    internal static FitResult FitLogLinear(FixedLrData lr, FitOptions options)
    {
        var key = lr.Key;
        var line = LinearLaw.FitLogX(lr.Widths, lr.Means);
        if (line is null)
            return new FitResult(LawNames.FixedLrLogLinear, key, LogLinearForm, new Dictionary<string, double>(), false,
                "The points do not determine a line.", null, lr.Points, lr.Evidence, "ols");
        var resample = lr.Resampler();
        var boot = Bootstrap.Run(Boot(options), (_, random) =>
            resample(random).Expanded() is var (x, y) && LinearLaw.FitLogX(x, y) is { } l ? [l.Intercept, l.Slope] : null);
        var fit = new FitResult(LawNames.FixedLrLogLinear, key, LogLinearForm,
            new Dictionary<string, double> { ["a"] = line.Intercept, ["b"] = line.Slope, ["learningRate"] = lr.LearningRate },
            true, Join(lr.DivergedMessage, BootstrapMessage(boot)), line.RSquared, lr.Points, lr.Evidence,
            "ols+" + lr.BootstrapMethod);
        return WithUncertainty(fit, boot, ["a", "b"], [line.Intercept, line.Slope],
            (p, h) => p[0] + p[1] * Math.Log(h), options.PredictAt);
    }

    /// <summary>
    /// <c>L(h) = E + A h^-alpha</c> per learning rate, over the mean final eval loss of completed trials at each width;
    /// needs at least four widths (more points than parameters).
    /// </summary>
    public static IEnumerable<FitResult> FixedLrPower(IEnumerable<TrialView> trials, FitOptions? options = null) =>
        FixedLrData.Of(trials).Where(lr => lr.Points.Count > PowerLaw.ParameterCount).Select(lr => FitPower(lr, options ?? new FitOptions()));

    internal static FitResult FitPower(FixedLrData lr, FitOptions options) =>
        PowerFit(LawNames.FixedLrPower, lr.Key, lr.Widths, lr.Means, lr.Points, lr.Evidence, lr.DivergedMessage,
            new Dictionary<string, double> { ["learningRate"] = lr.LearningRate }, lr.Resampler(), lr.BootstrapMethod, options);

    /// <summary>
    /// <c>L*(h) = E + A h^-alpha</c> over the tuned frontier: at each fully ended width, the best mean final loss over
    /// learning rates (a diverged trial makes its rate's mean infinite). Needs at least four such widths.
    /// The bootstrap resamples seeds within each (width, rate) cell and takes the best rate again (or, when some cell has
    /// a single seed, resamples the frontier's points).
    /// </summary>
    public static FitResult? TunedFrontierPower(IEnumerable<TrialView> trials, FitOptions? options = null)
    {
        options ??= new FitOptions();
        var grids = OptimalLearningRate.Grids(trials);
        var analysis = OptimalLearningRate.Analyse(trials, options.ExcludesHoles);
        var optima = analysis.Optima;
        if (optima.Count <= PowerLaw.ParameterCount) return null;
        var kept = grids.Where(g => optima.Any(o => o.Width == g.Width)).ToList();
        var widths = optima.Select(o => (double)o.Width).ToArray();
        var best = optima.Select(o => o.MeanLoss).ToArray();
        var points = optima.Select(o => new FitPoint(o.Width, o.MeanLoss)).ToList();
        var evidence = optima.SelectMany(o => o.EvidenceTrialIds).ToList();
        var edges = optima.Where(o => o.AtGridEdge).Select(o => o.Width).ToList();
        var message = Join(edges.Count > 0
            ? $"The best rate is at the edge of the grid for width(s) {string.Join(", ", edges)}: the frontier there may be higher than the true optimum."
            : null, analysis.Message);
        var bySeed = EverySeedRepeated(kept);
        Func<Random, Sample> resample = bySeed
            ? random =>
            {
                var y = new double[kept.Count];
                for (var w = 0; w < kept.Count; w++)
                {
                    var min = double.PositiveInfinity;
                    foreach (var outcomes in kept[w].Outcomes)
                        if (outcomes.Length > 0 && Bootstrap.ResampledMean(outcomes, random) is var m && m < min) min = m;
                    y[w] = min;
                }
                return new Sample(widths, y, null);
            }
            : random => new Sample(widths, best, Bootstrap.PointWeights(widths.Length, random));
        return PowerFit(LawNames.TunedFrontierPower, "all", widths, best, points, evidence, message, [], resample,
            bySeed ? SeedsMethod : PointsMethod, options);
    }

    /// <summary>
    /// <c>ln lr*(h) = c + d ln h</c> over each fully finished width's best learning rate, refined below grid resolution
    /// by a parabola in ln(lr) through the grid argmin and its neighbours (see <see cref="OptimalLearningRate.Refine"/>).
    /// The bootstrap resamples seeds within each (width, rate) cell and repeats argmin, refinement and line (or, when
    /// some cell has a single seed, resamples the per-width optima).
    /// </summary>
    public static FitResult? OptimalLr(IEnumerable<TrialView> trials, FitOptions? options = null)
    {
        options ??= new FitOptions();
        var analysis = OptimalLearningRate.Analyse(trials, options.ExcludesHoles);
        var optima = analysis.Optima;
        if (optima.Count < 2) return null;
        var grids = OptimalLearningRate.Grids(trials).Where(g => optima.Any(o => o.Width == g.Width)).ToList();
        var points = optima.Select(o => new FitPoint(o.Width, o.RefinedLearningRate)).ToList();
        var evidence = optima.SelectMany(o => o.EvidenceTrialIds).ToList();
        var edges = optima.Where(o => o.AtGridEdge).Select(o => o.Width).ToList();
        var unrefined = optima.Where(o => !o.AtGridEdge && o.Refinement is not null).Select(o => $"{o.Width} ({o.Refinement})").ToList();
        var message = Join(
            edges.Count > 0 ? $"The best rate is at the edge of the grid for width(s) {string.Join(", ", edges)}: the optimum may lie outside the grid." : null,
            unrefined.Count > 0 ? $"Kept the grid rate at width(s) {string.Join("; ", unrefined)}." : null,
            analysis.Message);
        const string method = "grid-argmin+quadratic-refinement+ols";
        var line = LinearLaw.FitLogLog(points.Select(p => p.X).ToList(), points.Select(p => p.Y).ToList());
        if (line is null)
            return new FitResult(LawNames.OptimalLr, "all", OptimalLrForm, new Dictionary<string, double>(), false,
                "The points do not determine a line.", null, points, evidence, method);
        var bySeed = EverySeedRepeated(grids);
        var widths = points.Select(p => p.X).ToArray();
        var rates = points.Select(p => p.Y).ToArray();
        var boot = Bootstrap.Run(Boot(options), (_, random) =>
        {
            if (!bySeed)
                return new Sample(widths, rates, Bootstrap.PointWeights(widths.Length, random)).Expanded() is var (px, py)
                    && LinearLaw.FitLogLog(px, py) is { } pl ? [pl.Intercept, pl.Slope] : null;
            var x = new List<double>(grids.Count);
            var y = new List<double>(grids.Count);
            foreach (var grid in grids)
            {
                var means = grid.Outcomes.Select(o => o.Length == 0 ? double.NaN : Bootstrap.ResampledMean(o, random)).ToArray();
                if (OptimalLearningRate.Refine(grid.Rates, means) is not { } best) continue;
                x.Add(grid.Width);
                y.Add(best.RefinedLearningRate);
            }
            return x.Count >= 2 && LinearLaw.FitLogLog(x, y) is { } l ? [l.Intercept, l.Slope] : null;
        });
        var fit = new FitResult(LawNames.OptimalLr, "all", OptimalLrForm,
            new Dictionary<string, double> { ["c"] = line.Intercept, ["d"] = line.Slope }, true,
            Join(message, BootstrapMessage(boot)), line.RSquared, points, evidence, method + "+" + (bySeed ? SeedsMethod : PointsMethod));
        return WithUncertainty(fit, boot, ["c", "d"], [line.Intercept, line.Slope],
            (p, h) => Math.Exp(p[0] + p[1] * Math.Log(h)), options.PredictAt);
    }

    public static LawFitted ToEvent(Guid studyId, FitResult f, Guid fitId, long evidenceSequence, DateTimeOffset now) => new(
        studyId, fitId, f.Law, f.Key, f.Form, f.Parameters, f.Converged, f.Message, f.RSquared, f.Points,
        f.EvidenceTrialIds, evidenceSequence, f.Method, FitterVersion, now,
        f.Intervals, f.BootstrapSeed, f.BootstrapResamples, f.BootstrapConverged, f.StartsConverged, f.StartsTried, f.Predictions);

    private static FitResult PowerFit(
        string law, string key, double[] widths, double[] y, IReadOnlyList<FitPoint> points, IReadOnlyList<Guid> evidence,
        string? message, Dictionary<string, double> extra, Func<Random, Sample> resample, string bootstrapMethod, FitOptions options)
    {
        var optimiser = options.Optimiser ?? new OptimiserOptions();
        var fit = PowerLaw.Fit(widths, y, optimiser);
        if (!fit.Converged)
            return new FitResult(law, key, PowerLaw.Form, extra, false, Join(message, fit.Message), null, points, evidence,
                fit.Method, StartsConverged: fit.StartsConverged, StartsTried: fit.StartsTried);
        var warm = fit.Theta;
        var boot = Bootstrap.Run(Boot(options), (_, random) =>
        {
            var sample = resample(random);
            var keep = Enumerable.Range(0, sample.Y.Length)
                .Where(i => sample.Y[i] > 0 && double.IsFinite(sample.Y[i]) && (sample.Weights is null || sample.Weights[i] > 0))
                .ToArray();
            // A resample needs as many distinct widths as the law has parameters.
            if (keep.Length < PowerLaw.ParameterCount) return null;
            var yr = keep.Select(i => sample.Y[i]).ToArray();
            return PowerLaw.Refit(keep.Select(i => Math.Log(sample.X[i])).ToArray(), yr, yr.Select(v => Math.Log(v)).ToArray(),
                sample.Weights is { } w ? keep.Select(i => w[i]).ToArray() : null, warm, optimiser, options.BootstrapRetriesStartGrid);
        });
        var parameters = new Dictionary<string, double>(extra) { ["E"] = fit.E, ["A"] = fit.A, ["alpha"] = fit.Alpha };
        var result = new FitResult(law, key, PowerLaw.Form, parameters, true, Join(message, BootstrapMessage(boot)), fit.RSquared,
            points, evidence, fit.Method + "+" + bootstrapMethod, StartsConverged: fit.StartsConverged, StartsTried: fit.StartsTried);
        return WithUncertainty(result, boot, ["E", "A", "alpha"], [fit.E, fit.A, fit.Alpha],
            (p, h) => PowerLaw.Evaluate(p[0], p[1], p[2], h), options.PredictAt);
    }

    internal const string SeedsMethod = "bootstrap-seeds";
    internal const string PointsMethod = "bootstrap-points";

    /// <summary>Every (width, rate) cell with a result has at least two seeds: the bootstrap can resample seeds.</summary>
    private static bool EverySeedRepeated(IEnumerable<WidthGrid> grids) =>
        grids.SelectMany(g => g.Outcomes).Where(o => o.Length > 0).All(o => o.Length >= 2);

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

    private static FitResult WithUncertainty(
        FitResult fit, BootstrapReplicates boot, string[] names, double[] estimate, Func<double[], double, double> predict,
        IReadOnlyList<double>? predictAt)
    {
        var intervals = new Dictionary<string, ParameterInterval>();
        for (var i = 0; i < names.Length; i++)
            if (boot.Interval(p => p[i]) is { } interval) intervals[names[i]] = interval;
        var predictions = (predictAt ?? []).Where(h => h > 0).Distinct().Order()
            .Select(h => (h, Value: predict(estimate, h), Interval: boot.Interval(p => predict(p, h))))
            .Where(p => double.IsFinite(p.Value))
            .Select(p => new FitPrediction(p.h, p.Value, p.Interval?.Lower, p.Interval?.Upper))
            .ToList();
        return fit with
        {
            Intervals = intervals, BootstrapSeed = boot.Seed, BootstrapResamples = boot.Resamples,
            BootstrapConverged = boot.Converged.Count, Predictions = predictions,
        };
    }

    private static BootstrapOptions Boot(FitOptions options) => options.Bootstrap ?? new BootstrapOptions();

    private static string? BootstrapMessage(BootstrapReplicates boot) =>
        boot.Converged.Count < boot.Resamples
            ? $"{boot.Converged.Count} of {boot.Resamples} bootstrap resamples converged; the intervals use those."
            : null;

    internal static string? Join(params string?[] parts) =>
        parts.Where(p => p is not null).ToList() is { Count: > 0 } some ? string.Join(" ", some) : null;

    private static FitOptions WithDefaultWidths(IReadOnlyList<TrialView> trials, StudySpec? spec, FitOptions? options)
    {
        options ??= new FitOptions();
        if (options.PredictAt is not null) return options;
        var widths = spec is not null
            ? (spec.Model?.Widths ?? []).Concat(spec.TargetWidths ?? [])
            : trials.Select(t => t.Width);
        return options with { PredictAt = widths.Where(w => w > 0).Distinct().Order().Select(w => (double)w).ToList() };
    }
}

/// <summary>One learning rate's completed trials: mean loss per width and the losses by seed for resampling.</summary>
internal sealed record FixedLrData(
    double LearningRate, double[] Widths, double[] Means, double[][] Losses, List<FitPoint> Points, List<Guid> Evidence,
    string? DivergedMessage)
{
    public string Key => LawRegistry.RateKey(LearningRate);

    /// <summary>Every width has at least two seeds: resample seeds within widths; otherwise resample widths.</summary>
    public bool BySeed => Losses.All(l => l.Length >= 2);

    public string BootstrapMethod => BySeed ? LawEngine.SeedsMethod : LawEngine.PointsMethod;

    public Func<Random, LawEngine.Sample> Resampler() => BySeed
        ? random => new LawEngine.Sample(Widths, Losses.Select(l => Bootstrap.ResampledMean(l, random)).ToArray(), null)
        : random => new LawEngine.Sample(Widths, Means, Bootstrap.PointWeights(Widths.Length, random));

    public static IEnumerable<FixedLrData> Of(IEnumerable<TrialView> trials)
    {
        foreach (var byLr in trials.GroupBy(t => t.LearningRate).OrderBy(g => g.Key))
        {
            var completed = byLr.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l))
                .OrderBy(t => t.Order).ToList();
            var cells = completed.GroupBy(t => t.Width).OrderBy(g => g.Key)
                .Select(g => (Width: g.Key, Losses: g.OrderBy(t => t.Seed).Select(t => t.FinalEvalLoss!.Value).ToArray()))
                .ToList();
            var diverged = byLr.Count(t => t.Status == TrialStatus.Diverged);
            var ended = cells.Select(c => c.Width).ToHashSet();
            var holes = byLr.Where(t => t.Status is TrialStatus.Failed or TrialStatus.Cancelled && !ended.Contains(t.Width)
                    && byLr.Where(u => u.Width == t.Width).All(u => u.Status != TrialStatus.Diverged))
                .Select(t => t.Width).Distinct().Order().ToList();
            yield return new FixedLrData(
                byLr.Key,
                cells.Select(c => (double)c.Width).ToArray(),
                cells.Select(c => c.Losses.Average()).ToArray(),
                cells.Select(c => c.Losses).ToArray(),
                cells.Select(c => new FitPoint(c.Width, c.Losses.Average())).ToList(),
                completed.Select(t => t.TrialId).ToList(),
                LawEngine.Join(diverged > 0 ? $"{diverged} diverged trial(s) at this learning rate are not on the curve." : null,
                    holes.Count > 0 ? $"No result at width(s) {string.Join(", ", holes)} (failed or cancelled trials): the curve has a hole there." : null));
        }
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Studies;

/// <summary>What <c>POST /api/studies/{id}/extend</c> asks: the widths to add and, optionally, seeds, fixed rates and a reason.</summary>
/// <param name="FixedRates">The naive fixed rates to train at the new widths beside the ladder; null: the rate that was best at the
/// study's smallest width; empty: none.</param>
public sealed record ExtensionRequest(IReadOnlyList<int>? Widths, IReadOnlyList<int>? Seeds = null, IReadOnlyList<double>? FixedRates = null,
    string? Reason = null);

/// <summary>The best rate a law claims at a width, with its 95% interval, and the fit that claims it.</summary>
public sealed record RateOptimum(string Law, Guid FitId, double Predicted, double Lower, double Upper);

/// <summary>An extension as planned (<see cref="Extended"/>), or why the study cannot be extended so (<see cref="Refusal"/>).</summary>
public sealed record PlannedExtension(StudyExtended? Extended, string? Refusal);

/// <summary>
/// Extending a study where its laws point: which rates each new width is trained at, and why. The rule (docs/science.md,
/// "Extending a study"):
/// <list type="number">
/// <item>The best rate eta at the width and its 95% interval [lower, upper] come from the optimal-LR law's claim there when its fit is
/// credible and has an interval; otherwise from the width-lr surface's valley (ln lr* = c + d ln h) with the interval its
/// parameters' intervals span (every corner of c and d); with neither, the width is refused.</item>
/// <item>rho is the grid's own ratio between neighbouring rates: the geometric median of the spec's sorted rates' ratios.</item>
/// <item>The ladder is eta rho^k for k = -m..m, m the least integer with eta rho^-m &lt;= lower/rho and eta rho^m &gt;= upper rho: it spans
/// the interval and one rung beyond each bound, so the optimum is bracketed if the law is right. At most <see cref="MaxLadder"/>
/// rates (m = 4): a longer ladder is cut, and the width says so (<see cref="ExtendedWidth.Capped"/>).</item>
/// <item>Beside it, the naive researcher's fixed rate (Metz: tune small, keep the rate): the rate that was best at the study's
/// smallest width with a result, or the rates the request names. A fixed rate on a rung is one rate, chosen for both reasons.</item>
/// </list>
/// Pure: the fits come in (refitted with the new widths among their claims), ids and time too.
/// </summary>
public static class ExtensionPlan
{
    public const int MaxWidths = 8;
    public const int MaxSeeds = 8;
    public const int MaxFixedRates = 4;

    /// <summary>The most rates of one width's ladder (m = 4 rungs each side of the optimum).</summary>
    public const int MaxLadder = 9;

    /// <summary>The largest rate a spec may hold, and so a rung.</summary>
    public const double MaxRate = 100;

    /// <summary>Rates closer than this (relatively) are the same rate.</summary>
    private const double SameRate = 1e-9;

    /// <summary>What is wrong with the request against the study's spec, each problem under its camelCase field (empty: nothing).</summary>
    public static IReadOnlyDictionary<string, string[]> Validate(ExtensionRequest? request, StudySpec spec)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }

        if (request is null)
        {
            Add("", "The body must be {\"widths\": [...], \"seeds\": [...], \"fixedRates\": [...], \"reason\": \"...\"} (widths required).");
            return Freeze(errors);
        }
        var known = spec.Model?.Widths ?? [];
        if (request.Widths is not { Count: > 0 } widths) Add("widths", "Name at least one width to add.");
        else
        {
            if (widths.Count > MaxWidths) Add("widths", $"At most {MaxWidths} widths at once, got {widths.Count}.");
            for (var i = 0; i < widths.Count && i < MaxWidths; i++)
            {
                var w = widths[i];
                if (w < 1 || w > SpecValidation.MaxWidth) Add($"widths[{i}]", $"A width must be between 1 and {SpecValidation.MaxWidth}, got {w}.");
                else if (known.Contains(w)) Add($"widths[{i}]", $"Width {w} is already in the study.");
                else if (SpecValidation.Weights(w, Math.Max(1, spec.Model?.HiddenLayers ?? 1)) is var weights && weights > SpecValidation.MaxWeights)
                    Add($"widths[{i}]", $"Width {w} makes a model of {weights:N0} weights; at most {SpecValidation.MaxWeights:N0} fit this trainer.");
            }
            if (widths.Distinct().Count() != widths.Count) Add("widths", "Each width may appear once.");
        }
        if (request.Seeds is { } seeds)
        {
            if (seeds.Count is 0 or > MaxSeeds) Add("seeds", $"Give 1 to {MaxSeeds} seeds, or none for the study's own; got {seeds.Count}.");
            for (var i = 0; i < seeds.Count && i < MaxSeeds; i++)
                if (seeds[i] < 0) Add($"seeds[{i}]", $"A seed must be zero or positive, got {seeds[i]}.");
            if (seeds.Distinct().Count() != seeds.Count) Add("seeds", "Seeds must not repeat.");
        }
        if (request.FixedRates is { } rates)
        {
            if (rates.Count > MaxFixedRates) Add("fixedRates", $"At most {MaxFixedRates} fixed rates, got {rates.Count}.");
            for (var i = 0; i < rates.Count && i < MaxFixedRates; i++)
                if (!double.IsFinite(rates[i]) || rates[i] <= 0 || rates[i] > MaxRate)
                    Add($"fixedRates[{i}]", $"A learning rate must be a positive number at most {MaxRate}, got {rates[i]}.");
            if (rates.Distinct().Count() != rates.Count) Add("fixedRates", "Fixed rates must not repeat.");
        }
        if (TextRules.Problem("reason", request.Reason, optional: true) is { } reason) Add("reason", $"The {reason}.");
        return Freeze(errors);
    }

    /// <summary>The grid's ratio between neighbouring rates: the geometric median of its sorted distinct rates' ratios (null under two rates).</summary>
    public static double? Ratio(IEnumerable<double> rates)
    {
        var sorted = rates.Where(r => r > 0 && double.IsFinite(r)).Distinct().Order().ToList();
        if (sorted.Count < 2) return null;
        var logs = sorted.Zip(sorted.Skip(1), (a, b) => Math.Log(b / a)).Order().ToList();
        var middle = logs.Count / 2;
        return Math.Exp(logs.Count % 2 == 1 ? logs[middle] : (logs[middle - 1] + logs[middle]) / 2);
    }

    /// <summary>
    /// The ladder eta rho^k, k = -m..m, spanning [lower, upper] and one rung beyond each bound; cut to <see cref="MaxLadder"/> rates
    /// (and to rates a spec may hold) with <c>Capped</c> saying so.
    /// </summary>
    public static (IReadOnlyList<double> Rates, int Rungs, bool Capped) Ladder(double eta, double lower, double upper, double ratio)
    {
        var step = Math.Log(ratio);
        // The least m with eta rho^-m <= lower / rho: m >= ln(eta / lower) / ln rho + 1 (and the same above).
        int Reach(double span) => Math.Max(0, (int)Math.Ceiling(span / step - SameRate)) + 1;
        var wanted = Math.Max(Reach(Math.Log(eta / Math.Min(lower, eta))), Reach(Math.Log(Math.Max(upper, eta) / eta)));
        var rungs = Math.Min(wanted, (MaxLadder - 1) / 2);
        var rates = Enumerable.Range(-rungs, 2 * rungs + 1).Select(k => eta * Math.Pow(ratio, k)).Where(r => r <= MaxRate).ToList();
        return (rates, rungs, wanted > rungs || rates.Count < 2 * rungs + 1);
    }

    /// <summary>
    /// The naive researcher's rate: the one with the lowest mean final loss over its completed seeds at the smallest width that has
    /// a result (null when no width has one).
    /// </summary>
    public static double? NaiveRate(IReadOnlyList<TrialView> trials) =>
        trials.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l))
            .GroupBy(t => t.Width).OrderBy(g => g.Key).FirstOrDefault()?
            .GroupBy(t => t.LearningRate).OrderBy(g => g.Average(t => t.FinalEvalLoss!.Value)).ThenBy(g => g.Key).First().Key;

    /// <summary>
    /// The best rate claimed at <paramref name="width"/> with its interval: the optimal-LR law's when its fit is credible and claims
    /// an interval there, else the width-lr surface's; null with <paramref name="why"/> saying what each lacked.
    /// </summary>
    public static RateOptimum? OptimumAt(int width, IReadOnlyList<LawFitted> fits, out string why, LawRegistry? laws = null)
    {
        var reasons = new List<string>();
        var lr = fits.FirstOrDefault(f => f.Law == OptimalLrLaw.LawName);
        if (Unusable(lr, laws) is { } notLr) reasons.Add($"{OptimalLrLaw.LawName}: {notLr}");
        else if (lr!.Predictions?.FirstOrDefault(p => p.X == width) is not { Lower: { } lower, Upper: { } upper } claim
                 || !Positive(claim.Value, lower, upper) || !(upper > lower))
            reasons.Add($"{OptimalLrLaw.LawName}: its fit {lr.FitId} claims no interval at width {width}");
        else
        {
            why = "";
            return new RateOptimum(lr.Law, lr.FitId, claim.Value, Math.Min(lower, claim.Value), Math.Max(upper, claim.Value));
        }

        var surface = fits.FirstOrDefault(f => f.Law == WidthLrSurfaceLaw.LawName);
        if (Unusable(surface, laws) is { } notSurface) reasons.Add($"{WidthLrSurfaceLaw.LawName}: {notSurface}");
        else if (surface!.Intervals?.GetValueOrDefault("c") is not { } c || surface.Intervals.GetValueOrDefault("d") is not { } d)
            reasons.Add($"{WidthLrSurfaceLaw.LawName}: its fit {surface.FitId} has no interval for the valley's c and d");
        else
        {
            var ln = Math.Log(width);
            var eta = Math.Exp(surface.Parameters["c"] + surface.Parameters["d"] * ln);
            double[] corners = [c.Lower + d.Lower * ln, c.Lower + d.Upper * ln, c.Upper + d.Lower * ln, c.Upper + d.Upper * ln];
            var (lower, upper) = (Math.Min(eta, Math.Exp(corners.Min())), Math.Max(eta, Math.Exp(corners.Max())));
            if (Positive(eta, lower, upper) && upper > lower)
            {
                why = "";
                return new RateOptimum(surface.Law, surface.FitId, eta, lower, upper);
            }
            reasons.Add($"{WidthLrSurfaceLaw.LawName}: its fit {surface.FitId} claims no finite interval at width {width}");
        }
        why = string.Join("; ", reasons);
        return null;
    }

    private static string? Unusable(LawFitted? fit, LawRegistry? laws)
    {
        if (fit is null) return "not fitted (its optima need rates that bracket each width's best)";
        var credibility = CredibilityRule.Assess(fit, laws);
        if (!credibility.Credible) return $"its fit {fit.FitId} is not credible ({string.Join("; ", credibility.Reasons)})";
        return PredictionDecisions.HasUncertainty(fit, laws) ? null : $"its fit {fit.FitId} has too few points for an interval";
    }

    private static bool Positive(params double[] values) => values.All(v => double.IsFinite(v) && v > 0);

    /// <summary>
    /// The extension of <paramref name="study"/> by the request's (valid) widths: each width's rates by the rule above, new trials
    /// (width, then rate, then seed) ordered after the study's own; or why not.
    /// </summary>
    /// <param name="fits">The study's newest fits, their claims including the new widths.</param>
    public static PlannedExtension Plan(StudySummaryView study, IReadOnlyList<TrialView> trials, IReadOnlyList<LawFitted> fits,
        ExtensionRequest request, Func<Guid> newId, string by, DateTimeOffset now, LawRegistry? laws = null)
    {
        if (study.Spec is not { Optimizer.LearningRates: { } gridRates, Seeds: { } studySeeds } spec)
            return Refused("the study has no spec of its own (its runs were trained elsewhere): there is no grid to extend");
        if (study.Status == StudyStatus.Cancelled) return Refused($"the study was cancelled by {study.CancelledBy}: a cancelled study stays stopped");
        if (Ratio(gridRates) is not { } ratio || !(ratio > 1))
            return Refused("the study's grid has fewer than two rates: there is no ratio to space a ladder by");
        var fixedRates = request.FixedRates ?? (NaiveRate(trials) is { } naive ? [naive] : []);
        var seeds = (request.Seeds ?? studySeeds).Order().ToList();
        var widths = new List<ExtendedWidth>();
        foreach (var width in request.Widths!.Order())
        {
            if (OptimumAt(width, fits, out var why, laws) is not { } optimum)
                return Refused($"width {width} has no predicted best rate with an interval to centre a ladder on ({why})");
            var (ladder, rungs, capped) = Ladder(optimum.Predicted, optimum.Lower, optimum.Upper, ratio);
            var rates = ladder.Select(r => new ExtendedRate(r, ExtendedRate.Ladder)).ToList();
            foreach (var rate in fixedRates)
            {
                var on = rates.FindIndex(r => Math.Abs(Math.Log(r.LearningRate / rate)) < SameRate);
                // The fixed rate's own value: the fixed-rate law finds its cell by the exact rate.
                if (on >= 0) rates[on] = new ExtendedRate(rate, ExtendedRate.Both);
                else rates.Add(new ExtendedRate(rate, ExtendedRate.Fixed));
            }
            rates.Sort((a, b) => a.LearningRate.CompareTo(b.LearningRate));
            if (rates.Count == 0)
                return Refused($"width {width} would train no rate: its ladder lies above rate {MaxRate} and no fixed rate was asked for");
            widths.Add(new ExtendedWidth(width, optimum.Law, optimum.FitId, optimum.Predicted, optimum.Lower, optimum.Upper, ratio, rungs, capped, rates));
        }
        var order = trials.Count == 0 ? 0 : trials.Max(t => t.Order) + 1;
        var planned = (from w in widths from r in w.Rates from s in seeds select (w.Width, r.LearningRate, s))
            .Select(c => new PlannedTrial(newId(), order++, c.Width, c.LearningRate, c.s)).ToList();
        var total = (long)study.TrialCount + planned.Count;
        if (total > SpecValidation.MaxTrials)
            return Refused($"the study would have {total:N0} trials; at most {SpecValidation.MaxTrials:N0}");
        if (total * SpecValidation.CheckpointsPerTrial(spec.Steps, spec.EvalEvery) is var checkpoints && checkpoints > SpecValidation.MaxStudyCheckpoints)
            return Refused($"the study would record {checkpoints:N0} checkpoints; at most {SpecValidation.MaxStudyCheckpoints:N0}");
        return new PlannedExtension(new StudyExtended(study.Id, widths, seeds, planned, by, request.Reason, now), null);
    }

    /// <summary>
    /// The extension as one decision, in the order it is recorded (one transaction): every law of widths refitted to the evidence it
    /// has (<paramref name="state"/>), claiming at the new widths too; <see cref="StudyExtended"/> with each width's rates chosen from
    /// those claims; and the predictions of those fits at every point not observed yet, the new widths included. The predictions are
    /// thus recorded before any new trial can start. Empty with a refusal when the rule cannot choose rates (nothing is recorded).
    /// </summary>
    /// <param name="request">A request <see cref="Validate"/> found nothing wrong with.</param>
    public static (IReadOnlyList<object> Events, string? Refusal) Decide(EvidenceState state, ExtensionRequest request, Func<Guid> newId, string by,
        DateTimeOffset now, FitOptions? options = null)
    {
        options ??= new FitOptions();
        var registry = options.Registry;
        var study = state.Summary;
        if (study.Spec?.Model is not { } model) return ([], "the study has no spec of its own (its runs were trained elsewhere): there is no grid to extend");
        var spec = study.Spec with { Model = model with { Widths = [.. model.Widths ?? [], .. request.Widths!] } };
        // The fits' evidence is the study's as of the state's sequence; only where they claim changes (an audit re-derives them so).
        var fits = LawEngine.Candidates(state.Trials, spec, options)
            .Where(c => registry.Find(c.Law) is { PredictsWidths: true })
            .Select(c => c.Fit())
            .Select(f => LawEngine.ToEvent(study.Id, f, newId(), state.Sequence.Value, now,
                state.LatestFits.FirstOrDefault(l => l.Law == f.Law && l.Key == f.Key)))
            .ToList();
        var newest = fits.Concat(state.LatestFits.Where(l => !fits.Any(f => f.Law == l.Law && f.Key == l.Key))).ToList();
        var plan = Plan(study, state.Trials, newest, request, newId, by, now, registry);
        if (plan.Extended is not { } extended) return ([], plan.Refusal);
        var added = extended.Trials.Select(t => StudyProjection.ApplyTrial(null, t.TrialId, extended, state.Sequence)!);
        var predictions = PredictionDecisions.Issue(study.Id, [.. state.Trials, .. added], fits, state.LatestFits, newId, now, registry);
        return ([.. fits, extended, .. predictions], null);
    }

    private static PlannedExtension Refused(string why) => new(null, why);

    private static IReadOnlyDictionary<string, string[]> Freeze(Dictionary<string, List<string>> errors) =>
        errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
}

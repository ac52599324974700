using System.Globalization;
using System.Text.RegularExpressions;
using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Laws;

/// <summary>Whether a fit's numbers can be believed, and if not, every reason, each a sentence naming its numbers.</summary>
public sealed record FitCredibility(bool Credible, IReadOnlyList<string> Reasons);

/// <summary>
/// The rule that sets a fit aside as not credible: a fit that converged can still be nonsense (a fixed-LR power law
/// through noise gave A = 7.1e44, alpha = 31, R² = 0.17, and "predicted" a loss of 6e55 at width 2048). Each check is
/// something a scaling-law researcher would reject a fit for on sight; a fit failing any of them is not credible.
/// <list type="bullet">
/// <item>It did not converge.</item>
/// <item>An exponent lies outside what scaling supports: a loss power law's alpha (and the Chinchilla law's beta) in
/// (0, 3] (published width, parameter and data exponents are 0.05 to 1; a nonpositive one says the loss does not fall
/// with size); the optimal-LR slope d in [-2, 1] (theory gives -1 for the standard parameterization with Adam and 0 for
/// muP; a unit's margin either side).</item>
/// <item>A coefficient that must be positive (a power law's A, the Chinchilla law's A and B) has a 95% bootstrap
/// interval reaching zero or spanning more than two orders of magnitude: the data do not determine it. The floor E is
/// exempt: it often cannot be resolved from the widths at hand (its interval reaches 0) while the law still is.</item>
/// <item>A loss law explains less than half the variance of its points (R² &lt; 0.5): ordinary fits give 0.8 to 1 (the
/// log-linear law down to 0.7 over a wide range of widths); below 0.5 the curve is drawn through noise. Not applied to
/// the optimal-LR law, whose R² is near 0 by design when the best rate does not move with width (muP).</item>
/// <item>A prediction is not finite, is a negative loss, or is more than 10 times the largest value the fit observed
/// (a loss, or for the optimal-LR law a learning rate): no width change makes a loss grow tenfold.</item>
/// <item>Fewer than half of the bootstrap's resamples converged: the intervals rest on the few that did.</item>
/// </list>
/// </summary>
public static class CredibilityRule
{
    /// <summary>Changes whenever the rule could judge the same fit differently.</summary>
    public const string Version = "1";

    public const double MaxAlpha = 3;
    public const double MinSlope = -2, MaxSlope = 1;
    public const double MaxIntervalRatio = 100;
    public const double MinRSquared = 0.5;
    public const double MaxPredictionOverObserved = 10;
    public const double MinBootstrapShare = 0.5;

    public static FitCredibility Assess(LawFitted fit)
    {
        var reasons = new List<string>();
        if (!fit.Converged)
        {
            reasons.Add(string.IsNullOrWhiteSpace(fit.Message) ? "the fit did not converge" : $"the fit did not converge ({fit.Message.Trim()})");
            return new FitCredibility(false, reasons);
        }
        var isLoss = IsLossLaw(fit.Law);
        foreach (var (name, value) in fit.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
            if (!double.IsFinite(value)) reasons.Add($"parameter {name} = {Format(value)} is not a finite number");
        foreach (var exponent in ExponentsOf(fit.Law))
            if (fit.Parameters.TryGetValue(exponent.Name, out var value) && double.IsFinite(value) && !exponent.Admits(value))
                reasons.Add(exponent.Reason(value));
        foreach (var name in PositiveCoefficientsOf(fit.Law))
            if (fit.Intervals?.GetValueOrDefault(name) is { } interval && IntervalReason(name, interval) is { } reason)
                reasons.Add(reason);
        if (isLoss && fit.RSquared is { } r2 && !(r2 >= MinRSquared))
            reasons.Add($"R² = {Format(r2)}: the law explains less than half the variance of the loss over its {fit.Points.Count} points (credible fits have at least {Format(MinRSquared)})");
        reasons.AddRange(PredictionReasons(fit, isLoss));
        if (fit is { BootstrapResamples: > 0 and var resamples, BootstrapConverged: { } converged } && converged < MinBootstrapShare * resamples)
            reasons.Add($"only {converged} of {resamples} bootstrap resamples converged (fewer than half): the intervals rest on the resamples that happened to fit");
        return new FitCredibility(reasons.Count == 0, reasons);
    }

    /// <summary>Laws whose y is a loss (the optimal-LR law's is a learning rate).</summary>
    public static bool IsLossLaw(string law) =>
        law is LawNames.FixedLrLogLinear or LawNames.FixedLrPower or LawNames.TunedFrontierPower or LawNames.Chinchilla;

    /// <summary>An exponent's plausible range: (Min, Max], or [Min, Max] when <paramref name="MinInclusive"/>.</summary>
    private sealed record Exponent(string Name, string What, string Scaling, double Min, bool MinInclusive, double Max)
    {
        public bool Admits(double value) => (MinInclusive ? value >= Min : value > Min) && value <= Max;

        /// <summary>"far" when the value is further from the range than the range is wide.</summary>
        public string Reason(double value)
        {
            var distance = value > Max ? value - Max : Min - value;
            var far = distance > Max - Min ? "far " : "";
            return $"{What} {Name} = {Format(value)} is {far}outside what {Scaling} supports ({Format(Min)} to {Format(Max)})";
        }
    }

    private static IReadOnlyList<Exponent> ExponentsOf(string law) => law switch
    {
        LawNames.FixedLrPower or LawNames.TunedFrontierPower =>
            [new Exponent("alpha", "exponent", "width scaling", 0, false, MaxAlpha)],
        LawNames.Chinchilla =>
        [
            new Exponent("alpha", "exponent", "model-size scaling", 0, false, MaxAlpha),
            new Exponent("beta", "exponent", "data scaling", 0, false, MaxAlpha),
        ],
        LawNames.OptimalLr =>
            [new Exponent("d", "optimal-LR slope", "width scaling of the best learning rate", MinSlope, true, MaxSlope)],
        _ => [],
    };

    private static IReadOnlyList<string> PositiveCoefficientsOf(string law) => law switch
    {
        LawNames.FixedLrPower or LawNames.TunedFrontierPower => ["A"],
        LawNames.Chinchilla => ["A", "B"],
        _ => [],
    };

    private static string? IntervalReason(string name, ParameterInterval interval)
    {
        var shown = $"[{Format(interval.Lower)}, {Format(interval.Upper)}]";
        if (!double.IsFinite(interval.Lower) || !double.IsFinite(interval.Upper))
            return $"the 95% interval of {name}, {shown}, is not finite";
        if (interval.Lower <= 0)
            return $"the 95% interval of {name}, {shown}, reaches zero or below though {name} must be positive: the data do not determine it";
        var ratio = interval.Upper / interval.Lower;
        return ratio > MaxIntervalRatio
            ? $"the 95% interval of {name}, {shown}, spans more than two orders of magnitude (upper/lower = {Format(ratio)}): the data do not determine it"
            : null;
    }

    private static IEnumerable<string> PredictionReasons(LawFitted fit, bool isLoss)
    {
        var predictions = fit.Predictions ?? [];
        if (predictions.Count == 0) yield break;
        var what = isLoss ? "loss" : fit.Law == LawNames.OptimalLr ? "optimal learning rate" : "value";
        static bool Finite(FitPrediction p) =>
            double.IsFinite(p.Value) && double.IsFinite(p.Lower ?? 0) && double.IsFinite(p.Upper ?? 0);
        var notFinite = predictions.Where(p => !Finite(p)).ToList();
        if (notFinite.Count == 1)
            yield return $"the prediction at width {Widths(notFinite)} is not a finite number";
        else if (notFinite.Count > 1)
            yield return $"the predictions at widths {Widths(notFinite)} are not finite numbers";
        var finite = predictions.Where(Finite).ToList();
        var negative = isLoss ? finite.Where(p => p.Value < 0).ToList() : [];
        if (negative.Count > 0)
            yield return $"it predicts a negative loss: {Listed(negative)}";
        var observed = fit.Points.Select(p => p.Y).Where(double.IsFinite).ToList();
        if (observed.Count == 0) yield break;
        var largest = observed.Max();
        if (!(largest > 0)) yield break;
        var absurd = finite.Where(p => p.Value > MaxPredictionOverObserved * largest).ToList();
        if (absurd.Count > 0)
            yield return $"it predicts {what} {Listed(absurd)}, more than {Format(MaxPredictionOverObserved)} times the largest observed ({Format(largest)})";
    }

    private static string Widths(IEnumerable<FitPrediction> predictions) => string.Join(", ", predictions.Select(p => FormatWidth(p.X)));

    private static string Listed(IEnumerable<FitPrediction> predictions) =>
        string.Join(", ", predictions.Select(p => $"{Format(p.Value)}" + (p is { Lower: { } l, Upper: { } u } ? $" [{Format(l)}, {Format(u)}]" : "") + $" at width {FormatWidth(p.X)}"));

    /// <summary>Three significant digits, invariant, exponents written 7.1e44 and 4.56e-15.</summary>
    public static string Format(double value) =>
        Regex.Replace(value.ToString("G3", CultureInfo.InvariantCulture), @"E([+-])0*(\d)", m => "e" + (m.Groups[1].Value == "-" ? "-" : "") + m.Groups[2].Value);

    /// <summary>A width as it is written: whole widths in full (65536), others as <see cref="Format"/>.</summary>
    public static string FormatWidth(double width) =>
        width == Math.Round(width) && Math.Abs(width) < 1e15 ? width.ToString("0", CultureInfo.InvariantCulture) : Format(width);
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Claims;

/// <summary>Whether a fit's numbers can be believed, and if not, every reason, each a sentence naming its numbers.</summary>
public sealed record FitCredibility(bool Credible, IReadOnlyList<string> Reasons);

/// <summary>
/// The rule that sets a fit aside as not credible: a fit that converged can still be nonsense (a fixed-LR power law
/// through noise gave A = 7.1e44, alpha = 31, R² = 0.17, and "predicted" a loss of 6e55 at width 2048). Each check is
/// something a scaling-law researcher would reject a fit for on sight; a fit failing any of them is not credible.
/// <list type="bullet">
/// <item>It did not converge.</item>
/// <item>An exponent lies outside what scaling supports: each law names its exponents and their ranges
/// (<see cref="Law.Exponents"/>: a loss power law's alpha in (0, 3], the optimal-LR slope d in [-2, 1], ...).</item>
/// <item>A coefficient that must be positive (each law names them, <see cref="Law.PositiveCoefficients"/>: a power law's A,
/// the Chinchilla law's A and B) has a 95% bootstrap interval reaching zero or spanning more than two orders of magnitude:
/// the data do not determine it. The floor E is exempt: it often cannot be resolved from the widths at hand (its interval
/// reaches 0) while the law still is.</item>
/// <item>An exponent's 95% bootstrap interval has no width where the bootstrap resampled seeds (rule 3): every resample found
/// the same value, so the data
/// said nothing about its uncertainty. A coarse grid whose rate above the best diverged at every width keeps each width's
/// best rate at the same grid rate (no parabola through a diverged neighbour), and the slope came out d = 0 [0, 0].</item>
/// <item>A loss law explains less than half the variance of its points (R² &lt; 0.5): ordinary fits give 0.8 to 1 (the
/// log-linear law down to 0.7 over a wide range of widths); below 0.5 the curve is drawn through noise. Not applied to a
/// law of the learning rate (the optimal-LR law), whose R² is near 0 by design when the best rate does not move with width
/// (muP).</item>
/// <item>A prediction is not finite, is a negative loss, or is more than 10 times the largest value the fit observed
/// (a loss, or for the optimal-LR law a learning rate): no width change makes a loss grow tenfold.</item>
/// <item>Fewer than half of the bootstrap's resamples converged: the intervals rest on the few that did.</item>
/// <item>It rests on optima at the edge of the grid (fitters before 2.2.0 fitted them, and said so in the fit's message;
/// from 2.2.0 such widths are left out): a best rate at the grid's edge is a bound on the optimum, not a value (a study of
/// widths 16 to 64 whose best rate was the largest at every width gave d = 4e-31 with an interval of 1e-30).</item>
/// </list>
/// </summary>
public static class CredibilityRule
{
    /// <summary>Changes whenever the rule could judge the same fit differently.</summary>
    public const string Version = "3";

    public const double MaxIntervalRatio = 100;
    public const double MinRSquared = 0.5;
    public const double MaxPredictionOverObserved = 10;
    public const double MinBootstrapShare = 0.5;

    /// <summary>Judges <paramref name="fit"/> by its law's own bounds (found in <paramref name="laws"/>, by default the ledger's).</summary>
    public static FitCredibility Assess(LawFitted fit, LawRegistry? laws = null)
    {
        var reasons = new List<string>();
        if (!fit.Converged)
        {
            reasons.Add(string.IsNullOrWhiteSpace(fit.Message) ? "the fit did not converge" : $"the fit did not converge ({fit.Message.Trim()})");
            return new FitCredibility(false, reasons);
        }
        var law = (laws ?? LawRegistry.Default).Find(fit.Law);
        var isLoss = law?.Quantity != LawQuantity.LearningRate;
        foreach (var (name, value) in fit.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
            if (!double.IsFinite(value)) reasons.Add($"parameter {name} = {Format(value)} is not a finite number");
        foreach (var exponent in law?.Exponents ?? [])
            if (fit.Parameters.TryGetValue(exponent.Parameter, out var value) && double.IsFinite(value) && !exponent.Admits(value))
                reasons.Add(exponent.Reason(value));
        foreach (var exponent in law?.Exponents ?? [])
            if (fit.Method.Contains(LawFitting.SeedsMethod, StringComparison.Ordinal)
                && fit.Intervals?.GetValueOrDefault(exponent.Parameter) is { } interval && double.IsFinite(interval.Lower)
                && interval.Upper - interval.Lower <= 1e-12 * Math.Max(1, Math.Abs(interval.Lower)))
                reasons.Add($"{exponent.Parameter}'s 95% interval [{Format(interval.Lower)}, {Format(interval.Upper)}] has no width: every " +
                    "bootstrap resample found the same value, so the data say nothing of its uncertainty (for the best rate: every width's " +
                    "optimum kept at a grid rate, as when the rate beside it diverged: a finer grid would resolve it)");
        foreach (var name in law?.PositiveCoefficients ?? [])
            if (fit.Intervals?.GetValueOrDefault(name) is { } interval && IntervalReason(name, interval) is { } reason)
                reasons.Add(reason);
        if (isLoss && fit.RSquared is { } r2 && !(r2 >= MinRSquared))
            reasons.Add($"R² = {Format(r2)}: the law explains less than half the variance of the loss over its {fit.Points.Count} points " +
                $"(credible fits have at least {Format(MinRSquared)})");
        reasons.AddRange(PredictionReasons(fit, isLoss));
        if (fit.Message is { } message && message.Contains(EdgeMessage, StringComparison.Ordinal))
            reasons.Add("it rests on optima at the edge of the grid (" + message[message.IndexOf(EdgeMessage, StringComparison.Ordinal)..].Split(':')[0]
                + "): there the best rate is a bound, not a value");
        if (fit is { BootstrapResamples: > 0 and var resamples, BootstrapConverged: { } converged } && converged < MinBootstrapShare * resamples)
            reasons.Add($"only {converged} of {resamples} bootstrap resamples converged (fewer than half): " +
                "the intervals rest on the resamples that happened to fit");
        return new FitCredibility(reasons.Count == 0, reasons);
    }

    /// <summary>How fits over optima at the grid's edge said so (fitters 2.0.0 to 2.1.0 fitted them anyway).</summary>
    public const string EdgeMessage = "The best rate is at the edge of the grid for width(s)";

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
        var what = isLoss ? "loss" : "optimal learning rate";
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

    private static string Widths(IEnumerable<FitPrediction> predictions) => string.Join(", ", predictions.Select(p => Numbers.Width(p.X)).Distinct());

    private static string Listed(IEnumerable<FitPrediction> predictions) =>
        string.Join(", ", predictions.Select(p => $"{Format(p.Value)}" + (p is { Lower: { } l, Upper: { } u } ? $" [{Format(l)}, {Format(u)}]" : "")
            + $" at width {Numbers.Width(p.X)}" + (p.LearningRate is { } lr ? $", lr {Format(lr)}" : "")));

    private static string Format(double value) => Numbers.Format(value);
}

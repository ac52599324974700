using ScalingLedger.Contracts;
using ScalingLedger.Domain;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Cli.Reports;

/// <summary>One law of a study as text: its newest fit, parameters with 95% intervals, and what it says at the target widths.</summary>
public sealed record LawLine(string Law, string Key, string Form, string Parameters, double? RSquared, bool Converged, bool Credible,
    string Targets, string? Doubts);

/// <summary>The laws of a study in the registry's order, as the terminal and the markdown report both print them.</summary>
public static class LawLines
{
    public static IReadOnlyList<LawLine> Of(StudyView study) =>
        study.LatestFits.InLawOrder(f => (f.Law, f.Key)).Select(f =>
        {
            var credibility = study.CredibilityOf(f.FitId);
            return new LawLine(f.Law, f.Key, f.Form, Parameters(f), f.RSquared, f.Converged, f.Converged && credibility.Credible, Targets(study, f),
                credibility.Credible ? null : string.Join("; ", credibility.Reasons));
        }).ToList();

    private static string Parameters(LawFitted fit) => string.Join(", ", fit.Parameters.Select(p =>
        fit.Intervals?.TryGetValue(p.Key, out var interval) == true
            ? $"{p.Key} = {Numbers.Format(p.Value)} {Numbers.Interval(interval.Lower, interval.Upper)}"
            : $"{p.Key} = {Numbers.Format(p.Value)}"));

    /// <summary>The fit's claims at the study's target widths (at the best rate where it claims one per rate).</summary>
    private static string Targets(StudyView study, LawFitted fit)
    {
        var targets = study.Spec?.TargetWidths?.Select(w => (double)w).ToHashSet() ?? [];
        var claims = string.Join(", ", (fit.Predictions ?? []).Where(p => targets.Contains(p.X) && p.LearningRate is null).Select(p =>
            $"width {Numbers.Width(p.X)}: {Numbers.Format(p.Value)}" +
            (p.Lower is { } lower && p.Upper is { } upper ? $" {Numbers.Interval(lower, upper)}" : "")));
        return PredictionIntervals.WhyNone(fit) is { } why ? $"{claims} (no interval: {why})" : claims;
    }
}

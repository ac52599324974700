using System.Globalization;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Studies;

/// <summary>Several studies side by side: their frontiers, their laws' parameters, their grids and how their specs differ.</summary>
public sealed record ComparisonView(IReadOnlyList<ComparedStudy> Studies, IReadOnlyList<LawComparison> Laws,
    IReadOnlyList<CellCoverage> Cells, IReadOnlyList<SpecDifference> SpecDifferences);

/// <summary>One study of a comparison.</summary>
/// <param name="Ended">Trials in an end state (completed, diverged, failed or cancelled).</param>
/// <param name="Frontier">Per width (ascending), the best (lowest) mean-over-seeds final eval loss among learning rates with
/// every seed completed, and that rate; widths with no such rate are left out.</param>
/// <param name="Calibration">How often its laws' predictions held (the last before each point was observed).</param>
/// <param name="Bends">Its laws that bend.</param>
public sealed record ComparedStudy(Guid Id, string Name, string Owner, StudyStatus Status, int Trials, int Ended, IReadOnlyList<FrontierPoint> Frontier,
    IReadOnlyList<LawCalibration> Calibration, IReadOnlyList<LawBend> Bends);

public sealed record FrontierPoint(int Width, double Loss, double LearningRate);

/// <summary>
/// One parameter of one (law, key) fitted in at least two of the studies: per study (same order as Studies) its estimate
/// or null, and whether that study's fit is credible (false where the study has no estimate).
/// </summary>
/// <param name="Agree">Every pair of 95% intervals overlaps; null when fewer than two studies have an interval.</param>
public sealed record LawComparison(string Law, string Key, string Parameter, IReadOnlyList<ParameterEstimate?> PerStudy, IReadOnlyList<bool> Credible,
    bool? Agree);

/// <summary>One (width, rate) cell of the union of the studies' grids: per study (same order as Studies) its trials there.</summary>
public sealed record CellCoverage(int Width, double LearningRate, IReadOnlyList<CellState> PerStudy);

/// <summary>A study's trials in one cell: planned (all of them, whatever their state), completed, diverged, failed.</summary>
public sealed record CellState(int Planned, int Completed, int Diverged, int Failed);

/// <summary>A spec field whose values differ between the studies, each study's value written out ("" where it has none).</summary>
public sealed record SpecDifference(string Field, IReadOnlyList<string> PerStudy);

public static class StudyComparison
{
    /// <param name="laws">The laws whose parameters are compared, in their order (null: the ledger's).</param>
    public static ComparisonView Compare(IReadOnlyList<StudyView> studies, LawRegistry? laws = null) =>
        new(studies.Select(Compared).ToList(), Laws(studies, laws ?? LawRegistry.Default), Cells(studies), SpecDifferences(studies));

    private static ComparedStudy Compared(StudyView s) =>
        new(s.Id, s.Name, s.Owner, s.Status, s.Trials.Count, s.Trials.Count(t => t.IsTerminal), Frontier(s.Trials), s.Calibration, s.Bends);

    /// <summary>Per width, the lowest mean loss over rates whose every trial completed with a finite loss (ties: the smaller rate).</summary>
    public static IReadOnlyList<FrontierPoint> Frontier(IEnumerable<TrialView> trials) =>
        trials.Where(t => t.Width >= 1).GroupBy(t => t.Width).OrderBy(g => g.Key)
            .Select(width => width.GroupBy(t => t.LearningRate)
                .Where(cell => cell.All(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l)))
                .Select(cell => new FrontierPoint(width.Key, cell.Average(t => t.FinalEvalLoss!.Value), cell.Key))
                .OrderBy(p => p.Loss).ThenBy(p => p.LearningRate)
                .FirstOrDefault())
            .OfType<FrontierPoint>()
            .ToList();

    /// <summary>Each fitted parameter of a law (as the law lists them; a law not in the registry, all its parameters).</summary>
    private static IReadOnlyList<LawComparison> Laws(IReadOnlyList<StudyView> studies, LawRegistry registry)
    {
        // Per study, its latest converged fit of each (law, key).
        var fits = studies.Select(s => s.LatestFits.Where(f => f.Converged)
            .GroupBy(f => (f.Law, f.Key)).ToDictionary(g => g.Key, g => g.Last())).ToList();
        var notCredible = studies.Select(s => s.NotCredibleFits.Select(f => f.Id).ToHashSet()).ToList();
        var result = new List<LawComparison>();
        var lawKeys = fits.SelectMany(f => f.Keys).Distinct().InLawOrder(k => k, registry);
        foreach (var lawKey in lawKeys)
        {
            var perStudy = fits.Select(f => f.GetValueOrDefault(lawKey)).ToList();
            // A fixed-LR law carries its (not fitted) rate among its parameters: only the law's own parameters are compared.
            var names = registry.Find(lawKey.Law)?.ParameterNames
                ?? perStudy.OfType<LawFitted>().SelectMany(f => f.Parameters.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
            foreach (var name in names)
            {
                var estimates = perStudy.Select(f => f is null ? null : ParameterEstimate.Of(f, name)).ToList();
                if (estimates.Count(e => e is not null) < 2) continue;
                var credible = perStudy.Select((f, i) => estimates[i] is not null && !notCredible[i].Contains(f!.FitId)).ToList();
                result.Add(new LawComparison(lawKey.Law, lawKey.Key, name, estimates, credible, Agree(estimates)));
            }
        }
        return result;
    }

    /// <summary>Every pair of intervals overlaps (for intervals on a line: the largest lower bound is at most the smallest upper).</summary>
    private static bool? Agree(IEnumerable<ParameterEstimate?> estimates)
    {
        var intervals = estimates.Where(e => e is { Lower: not null, Upper: not null }).Select(e => (Lower: e!.Lower!.Value, Upper: e.Upper!.Value)).ToList();
        return intervals.Count < 2 ? null : intervals.Max(i => i.Lower) <= intervals.Min(i => i.Upper);
    }

    private static IReadOnlyList<CellCoverage> Cells(IReadOnlyList<StudyView> studies) =>
        studies.SelectMany(s => s.Trials).Select(t => (t.Width, t.LearningRate)).Distinct().OrderBy(c => c.Width).ThenBy(c => c.LearningRate)
            .Select(cell => new CellCoverage(cell.Width, cell.LearningRate, studies.Select(s =>
            {
                var there = s.Trials.Where(t => t.Width == cell.Width && t.LearningRate == cell.LearningRate).ToList();
                return new CellState(there.Count, there.Count(t => t.Status == TrialStatus.Completed),
                    there.Count(t => t.Status == TrialStatus.Diverged), there.Count(t => t.Status == TrialStatus.Failed));
            }).ToList()))
            .ToList();

    /// <summary>The spec fields compared (name and owner are the studies' identity, not their design), in this order.</summary>
    private static readonly (string Field, Func<StudySpec, string> Value)[] SpecFields =
    [
        ("dataset", s => s.Dataset ?? ""),
        ("family", s => s.Model?.Family ?? ""),
        ("hiddenLayers", s => s.Model is { } m ? Write(m.HiddenLayers) : ""),
        ("parameterization", s => s.Model?.Parameterization ?? ""),
        ("baseWidth", s => s.Model?.BaseWidth is { } b ? Write(b) : ""),
        ("widths", s => List(s.Model?.Widths?.Select(w => Write(w)))),
        ("optimizer", s => s.Optimizer?.Name ?? ""),
        ("learningRates", s => List(s.Optimizer?.LearningRates?.Select(Write))),
        ("seeds", s => List(s.Seeds?.Select(w => Write(w)))),
        ("steps", s => Write(s.Steps)),
        ("batchSize", s => Write(s.BatchSize)),
        ("evalEvery", s => Write(s.EvalEvery)),
        ("targetWidths", s => List(s.TargetWidths?.Select(w => Write(w)))),
    ];

    private static IReadOnlyList<SpecDifference> SpecDifferences(IReadOnlyList<StudyView> studies) =>
        SpecFields.Select(f => new SpecDifference(f.Field, studies.Select(s => s.Spec is { } spec ? f.Value(spec) : "").ToList()))
            .Where(d => d.PerStudy.Distinct().Count() > 1)
            .ToList();

    private static string Write(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string List(IEnumerable<string>? values) => values is null ? "" : string.Join(", ", values);
}

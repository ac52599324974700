using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Charts;

/// <summary>
/// The four panels of a study (after Metz, "The difficulty of extrapolation in NN scaling"): loss against width per
/// learning rate with the laws, loss against learning rate per width with the optimum, the rate x width heatmap, and
/// the optimal learning rate against width. Pure: read models in, charts out.
/// </summary>
public static class StudyCharts
{
    private const string FrontierColor = "#111827";
    private const string IntervalColor = "#98a2b3";

    /// <summary>Cells of the heatmap that have no loss: values below zero, coloured apart and labelled in the chart.</summary>
    public const double DivergedCell = -1, FailedCell = -2, UnfinishedCell = -3;

    /// <summary>
    /// (a) Final eval loss (mean over completed seeds) against width (log), one colour per rate; the curves of every credible
    /// loss law out to the target widths with their 95% intervals there: each law's curve at the best rate (solid), and the
    /// fixed-rate curves of one law (<paramref name="rateCurvesOf"/>, dashed, in its rate's colour; by default the first law
    /// of the registry that has them, Metz's naive log-linear law).
    /// </summary>
    public static PlotChart LossVsWidth(StudyView study, string? rateCurvesOf = null, LawRegistry? laws = null)
    {
        laws ??= LawRegistry.Default;
        var sized = Sized(study);
        var rates = sized.Select(t => t.LearningRate).Distinct().Order().ToList();
        var axis = WidthAxis.Of(sized.Select(t => (double)t.Width).Concat(TargetWidths(study)));
        var set = new SeriesSet();
        for (var i = 0; i < rates.Count; i++)
        {
            var lr = rates[i];
            // One point per width: the mean over the completed seeds, what the fixed-LR laws fit (a study of thousands of
            // trials would otherwise draw thousands of markers).
            set.Points($"lr {Numbers.Format(lr)}", ChartStyle.Color(i),
                sized.Where(t => t.LearningRate == lr).GroupBy(t => t.Width).OrderBy(g => g.Key)
                    .Select(g => (Math.Log10(g.Key), MeanLoss(g) ?? double.NaN)));
        }
        var observed = sized.Where(t => t.FinalEvalLoss is { } l && double.IsFinite(l)).Select(t => t.FinalEvalLoss!.Value).ToList();
        // Diverged trials are evidence too (the rate is too high for that width): dark squares along the top.
        var top = observed.Count == 0 ? 2.5 : observed.Max() * 1.05;
        var diverged = sized.Where(t => t.Status == TrialStatus.Diverged).Select(t => (Math.Log10(t.Width), top)).Distinct().ToList();
        if (diverged.Count > 0) set.Points("diverged (rate too high)", "#1d2430", diverged, 7, MarkerShape.Square);
        // Failed trials are not evidence (the trainer broke, not the model): marked apart along the bottom.
        var bottom = observed.Count == 0 ? 0.0 : observed.Min() * 0.97;
        var failed = sized.Where(t => t.Status == TrialStatus.Failed).Select(t => (Math.Log10(t.Width), bottom)).Distinct().ToList();
        if (failed.Count > 0) set.Points("failed (no result)", "#b197fc", failed, 7, MarkerShape.Square);

        rateCurvesOf ??= RateCurveLaws(study, laws).FirstOrDefault();
        var rateIntervals = new List<(double, double, double)>();
        foreach (var (law, fit, curve) in CredibleCurves(study, laws, law => law.Quantity == LawQuantity.Loss))
        {
            if (curve.LearningRate is { } rate)
            {
                if (law.Name != rateCurvesOf) continue;
                var color = ChartStyle.Color(Math.Max(0, rates.IndexOf(rate)));
                set.Line(curve.Label, color, axis.Curve(curve.At, 40), 2, 5);
                rateIntervals.AddRange(TargetIntervals(study, fit, curve.ClaimRate));
            }
            else
            {
                var color = LawColor(law, laws);
                set.Line(curve.Label, color, axis.Curve(curve.At, 40), 3);
                set.Intervals($"{curve.Label}: 95% at targets", color, TargetIntervals(study, fit, null));
            }
        }
        if (rateIntervals.Count > 0) set.Intervals($"{rateCurvesOf} 95% at targets", IntervalColor, rateIntervals);
        return set.Chart(axis.XAxis("width (log scale)"), new ChartAxis("final eval loss", Decimals: 3), "No trial has completed yet.");
    }

    /// <summary>The laws whose newest credible fits draw curves at fixed rates (the choice of panel (a)), in the registry's order.</summary>
    public static IReadOnlyList<string> RateCurveLaws(StudyView study, LawRegistry? laws = null) =>
        CredibleCurves(study, laws ?? LawRegistry.Default, law => law.Quantity == LawQuantity.Loss)
            .Where(c => c.Curve.LearningRate is not null).Select(c => c.Law.Name).Distinct().ToList();

    /// <summary>Every curve of the study's newest credible fits of the laws chosen, in the registry's order of laws and keys.</summary>
    private static IEnumerable<(Law Law, LawFitted Fit, LawCurve Curve)> CredibleCurves(StudyView study, LawRegistry laws, Func<Law, bool> which) =>
        CredibleFits(study, laws).Where(f => which(f.Law)).SelectMany(f => f.Law.Curves(f.Fit).Select(c => (f.Law, f.Fit, c)));

    /// <summary>
    /// A study's newest converged fits of laws of width that were judged credible, with their laws, in the registry's order (a
    /// curved alternative only where its law bends).
    /// </summary>
    internal static IEnumerable<(Law Law, LawFitted Fit)> CredibleFits(StudyView study, LawRegistry laws) =>
        study.LatestFits.InLawOrder(f => (f.Law, f.Key), laws)
            .Where(f => f.Converged && study.CredibilityOf(f.FitId).Credible && laws.Find(f.Law) is { PredictsWidths: true } law && study.Shows(law))
            .Select(f => (laws.Find(f.Law)!, f));

    /// <summary>A law's own colour (its curves at the best rate): by its place in the registry.</summary>
    private static string LawColor(Law law, LawRegistry laws) => LawColors[laws.OrderOf(law.Name) % LawColors.Length];

    /// <summary>Dark colours apart from the rates' palette, one per law by its place in the registry.</summary>
    private static readonly string[] LawColors = [FrontierColor, "#343a40", FrontierColor, "#d9480f", "#0b7285", "#14532d", "#7c2d12"];

    /// <summary>(b) Final eval loss (mean over completed seeds) against learning rate (log), one series per width; the fitted optimum marked.</summary>
    public static PlotChart LossVsRate(StudyView study)
    {
        var sized = Sized(study);
        var widths = sized.Select(t => t.Width).Distinct().Order().ToList();
        var rates = sized.Select(t => t.LearningRate).Where(r => r > 0).Distinct().Order().ToList();
        var set = new SeriesSet();
        var cells = Cells(sized);
        for (var i = 0; i < widths.Count; i++)
        {
            var w = widths[i];
            set.Line($"width {w}", ChartStyle.Color(i),
                rates.Select(r => (Math.Log10(r), MeanLoss(cells[(w, r)]) ?? double.NaN)), 2, 0, 5);
        }
        // Each width's optimum refined below grid resolution (where the grid brackets it), at that width's best mean loss.
        if (RefinedOptima(sized) is { Count: > 0 } optima)
            set.Points("fitted optimum per width", FrontierColor, optima.Select(o => (Math.Log10(o.RefinedLearningRate), o.MeanLoss)), 9, MarkerShape.Diamond);
        var axis = rates.Count == 0 ? (Min: -4.0, Max: 0.0) : (Min: Math.Floor(Math.Log10(rates[0]) * 2) / 2, Max: Math.Ceiling(Math.Log10(rates[^1]) * 2) / 2);
        return set.Chart(new ChartAxis("learning rate (log scale)", Log: true, axis.Min, axis.Max, Math.Max(1, (int)Math.Round((axis.Max - axis.Min) * 2)),
            Name: "lr"), new ChartAxis("final eval loss (mean over seeds)", Decimals: 3), "No trial has completed yet.");
    }

    /// <summary>
    /// (c) Heatmap of final eval loss, learning rate x width: a cell is the mean over its completed seeds; diverged,
    /// failed and unfinished cells are coloured apart.
    /// </summary>
    public static HeatmapChart Heatmap(StudyView study)
    {
        var sized = Sized(study);
        var widths = sized.Select(t => t.Width).Distinct().Order().ToList();
        var rates = sized.Select(t => t.LearningRate).Distinct().Order().ToList();
        var cells = Cells(sized);
        var values = widths.Select(w => rates.Select(r => Cell(cells[(w, r)].ToList())).ToList()).ToList();
        var losses = values.SelectMany(v => v).Where(v => v >= 0).ToList();
        var ranges = new List<ColorRange>
        {
            new(DivergedCell - 0.5, DivergedCell + 0.5, "#1d2430", "diverged"),
            new(FailedCell - 0.5, FailedCell + 0.5, "#b197fc", "failed"),
            new(UnfinishedCell - 0.5, UnfinishedCell + 0.5, "#e4e7ec", "not ended"),
        };
        if (losses.Count > 0)
        {
            // Six bins between the best and the worst loss, dark (best) to light: the valley of good rates reads at a glance.
            string[] shades = ["#08519c", "#3182bd", "#6baed6", "#c6dbef", "#fdd0a2", "#fd8d3c"];
            var (lo, hi) = (losses.Min(), losses.Max());
            var step = hi > lo ? (hi - lo) / shades.Length : 1;
            for (var i = 0; i < shades.Length; i++)
                ranges.Add(new ColorRange(lo + i * step, i == shades.Length - 1 ? hi + 1e-9 : lo + (i + 1) * step, shades[i],
                    $"{lo + i * step:F3}–{lo + (i + 1) * step:F3}"));
        }
        return new HeatmapChart(rates.Select(Numbers.Format).ToList(), widths.Select((w, i) => new HeatmapRow($"width {w}", values[i])).ToList(),
            ranges, CellLabels, "learning rate", "width", "No trial planned.", Math.Max(260, 34 * widths.Count + 90));
    }

    /// <summary>The heatmap's cells without a loss, by name.</summary>
    private static readonly Dictionary<double, string> CellLabels = new() { [DivergedCell] = "div", [FailedCell] = "fail", [UnfinishedCell] = "–" };

    /// <summary>
    /// (d) The optimal learning rate against width (both log): each width's grid best and fitted optimum, and the best rate of
    /// every credible law that says one (the optimal-LR law, the surface's valley) with the 95% intervals of the laws of the
    /// rate at the targets.
    /// </summary>
    public static PlotChart OptimalLr(StudyView study, LawRegistry? laws = null)
    {
        laws ??= LawRegistry.Default;
        var sized = Sized(study);
        var axis = WidthAxis.Of(sized.Select(t => (double)t.Width).Concat(TargetWidths(study)));
        var set = new SeriesSet();
        var grid = sized.Where(t => t.LearningRate > 0).GroupBy(t => t.Width).OrderBy(g => g.Key)
            .Select(g => (Width: g.Key, Best: g.Where(t => t.Status == TrialStatus.Completed).GroupBy(t => t.LearningRate)
                .Select(r => (Rate: r.Key, Loss: r.Average(t => t.FinalEvalLoss ?? double.NaN))).Where(r => double.IsFinite(r.Loss))
                .OrderBy(r => r.Loss).FirstOrDefault()))
            .Where(g => g.Best.Rate > 0).Select(g => (Math.Log10(g.Width), Math.Log10(g.Best.Rate))).ToList();
        set.Points("best rate on the grid", "#98a2b3", grid, 6, MarkerShape.Square);
        set.Points("fitted optimum (refined)", "#d9480f",
            RefinedOptima(sized).Where(o => o.RefinedLearningRate > 0).Select(o => (Math.Log10(o.Width), Math.Log10(o.RefinedLearningRate))), 8);
        foreach (var (law, fit) in CredibleFits(study, laws))
        {
            if (law.OptimalRateAt(fit.Parameters, 1) is null) continue;
            var color = law.Quantity == LawQuantity.LearningRate ? "#d9480f" : LawColor(law, laws);
            var label = OptimalLrLaw.SlopeOf(fit.Parameters) is { } d ? $"{law.Name} (d = {Numbers.Format(d)})" : law.Name;
            set.Line(label, color, axis.Curve(x => law.OptimalRateAt(fit.Parameters, x) is { } lr && lr > 0 ? Math.Log10(lr) : null, 40), 2, 5);
            if (law.Quantity == LawQuantity.LearningRate)
                set.Intervals($"{law.Name} 95% at targets", color, TargetIntervals(study, fit, null, v => v > 0 ? Math.Log10(v) : double.NaN));
        }
        return set.Chart(axis.XAxis("width (log scale)"), new ChartAxis("learning rate (log scale)", Log: true), "No width has its optimum bracketed yet.");
    }

    /// <summary>Each fully ended width's best rate refined below grid resolution, where the grid brackets it (what the laws over optima fit).</summary>
    internal static IReadOnlyList<WidthOptimum> RefinedOptima(IReadOnlyList<TrialView> sized) =>
        sized.Any(t => t.LearningRate <= 0) ? [] : OptimalLearningRate.PerWidth(sized);

    /// <summary>
    /// What the ledger believed as evidence arrived: for each width a law predicted, the prediction and its interval against
    /// the number of ended trials it was based on, and the observed value once it came.
    /// </summary>
    public static PlotChart BeliefHistory(BeliefHistoryView history, string law, string key, LawRegistry? laws = null)
    {
        // A learning rate is a scale: the claims of a law of the rate are drawn on a log axis.
        var logY = (laws ?? LawRegistry.Default).Find(law)?.Quantity == LawQuantity.LearningRate;
        double Y(double v) => logY ? (v > 0 ? Math.Log10(v) : double.NaN) : v;
        var set = new SeriesSet();
        var i = 0;
        foreach (var s in history.Predictions.Where(s => s.Law == law && s.Key == key).OrderByDescending(s => s.Reason.Contains("target")).ThenBy(s => s.Width))
        {
            var color = ChartStyle.Color(i++);
            var label = $"width {Numbers.Width(s.Width)}{(s.AtLearningRate is { } claimRate ? $" at lr {Numbers.Format(claimRate)}" : "")}" +
                $"{(s.Reason.Contains("target") ? " (target)" : "")}";
            set.Line(label, color, s.Points.Select(p => ((double)p.Evidence, Y(p.Predicted))), 2, 0, 4);
            set.Intervals($"{label} 95%", color, s.Points.Select(p => ((double)p.Evidence, Y(p.Lower), Y(p.Upper))));
            if (s.Observed is { } o && s.ObservedAtEvidence is { } at) set.Points($"{label} observed", color, [((double)at, Y(o))], 9, MarkerShape.Diamond);
        }
        return set.Chart(Evidence("ended trials the prediction was based on"),
            logY ? new ChartAxis("predicted optimal learning rate (log scale)", Log: true) : new ChartAxis("predicted final loss", Decimals: 3),
            "No credible prediction of this law yet.");
    }

    /// <summary>The optimal-LR law's slope d with its interval, against the evidence it was fitted on.</summary>
    public static PlotChart SlopeHistory(BeliefHistoryView history)
    {
        var set = new SeriesSet();
        var credible = history.OptimalLrSlope.Where(p => p.Credible).ToList();
        set.Line("slope d", "#d9480f", credible.Select(p => ((double)p.Evidence, p.Value)), 2, 0, 5);
        set.Intervals("d 95%", "#d9480f", credible.Where(p => p.Lower is not null && p.Upper is not null)
            .Select(p => ((double)p.Evidence, p.Lower!.Value, p.Upper!.Value)));
        var set2 = history.OptimalLrSlope.Where(p => !p.Credible).Select(p => ((double)p.Evidence, p.Value)).ToList();
        if (set2.Count > 0) set.Points("slope d (fit not credible)", "#98a2b3", set2, 5, MarkerShape.Square);
        return set.Chart(Evidence("ended trials the fit was based on"), new ChartAxis("d in ln lr* = c + d ln width", Decimals: 2),
            "The optimal-LR law has not been fitted yet.");
    }

    /// <summary>
    /// Calibration: every credible loss prediction resolved so far, observed against predicted, with its 95% interval. A
    /// calibrated law's bars cross the diagonal about 95% of the time; a bar that misses it is a deviation.
    /// </summary>
    public static PlotChart Calibration(StudyView study, LawRegistry? laws = null)
    {
        laws ??= LawRegistry.Default;
        var resolved = study.CrediblePredictions
            .Where(p => p.Resolution is { Observed: not null } r && !PredictionResolution.IsCensored(r)
                && laws.Find(p.Issued.Law)?.Quantity == LawQuantity.Loss)
            .ToList();
        var set = new SeriesSet();
        set.Intervals("95% intervals", IntervalColor, resolved.Select(p => (p.Issued.Predicted, p.Issued.Lower, p.Issued.Upper)));
        set.Points("inside its interval", "#2b8a3e",
            resolved.Where(p => p.Resolution!.Inside).Select(p => (p.Issued.Predicted, p.Resolution!.Observed!.Value)), 7);
        set.Points("outside (a deviation)", "#c92a2a",
            resolved.Where(p => !p.Resolution!.Inside).Select(p => (p.Issued.Predicted, p.Resolution!.Observed!.Value)), 8, MarkerShape.Square);
        var values = resolved.SelectMany(p => new[] { p.Issued.Predicted, p.Resolution!.Observed!.Value }).Where(double.IsFinite).ToList();
        if (values.Count > 0) set.Line("observed = predicted", FrontierColor, [(values.Min(), values.Min()), (values.Max(), values.Max())], 1, 4);
        return set.Chart(new ChartAxis("predicted final loss"), new ChartAxis("observed final loss", Decimals: 3), "No loss prediction has resolved yet.");
    }

    /// <summary>A fit with its evidence points, its curves, its intervals and (for the audit) the predicted and observed point.</summary>
    public static PlotChart Fit(LawFitted fit, PredictionIssued? prediction, PredictionResolved? resolution, LawRegistry? laws = null)
    {
        var law = (laws ?? LawRegistry.Default).Find(fit.Law);
        var logY = law?.Quantity == LawQuantity.LearningRate;
        double Y(double v) => logY ? (v > 0 ? Math.Log10(v) : double.NaN) : v;
        var xs = fit.Points.Select(p => p.X).Concat(fit.Predictions?.Select(p => p.X) ?? []).Where(x => x > 0).ToList();
        if (prediction is not null) xs.Add(prediction.Width);
        var axis = WidthAxis.Of(xs);
        var set = new SeriesSet();
        set.Points("evidence (fitted points)", "#2e5bba", fit.Points.Where(p => p.X > 0).Select(p => (Math.Log10(p.X), Y(p.Y))));
        if (law is { PredictsWidths: true } && fit.Converged)
        {
            var curves = law.Curves(fit).ToList();
            if (curves.Count == 0) curves.Add(new LawCurve("fitted law", null, null, h => law.Evaluate(fit.Parameters, new LawPoint(h))));
            foreach (var (curve, i) in curves.Select((c, i) => (c, i)))
                set.Line(curves.Count == 1 ? "fitted law" : curve.Label, curve.LearningRate is null ? FrontierColor : ChartStyle.Color(i),
                    axis.Curve(x => curve.At(x) is { } v ? Y(v) : null, 40), 2, curve.LearningRate is null ? 0 : 5);
        }
        var claimRate = prediction?.AtLearningRate;
        set.Intervals("fit's 95% intervals", IntervalColor,
            (fit.Predictions ?? []).Where(p => p.Lower is not null && p.Upper is not null && p.X > 0 && p.LearningRate == claimRate)
                .Select(p => (Math.Log10(p.X), Y(p.Lower!.Value), Y(p.Upper!.Value))));
        if (prediction is not null)
        {
            set.Intervals("this prediction's 95%", "#d9480f", [(Math.Log10(prediction.Width), Y(prediction.Lower), Y(prediction.Upper))]);
            set.Points("predicted", "#d9480f", [(Math.Log10(prediction.Width), Y(prediction.Predicted))], 8, MarkerShape.Diamond);
            if (resolution?.Observed is { } observed && !PredictionResolution.IsCensored(resolution))
                set.Points("observed", resolution.Inside ? "#2b8a3e" : "#c92a2a", [(Math.Log10(prediction.Width), Y(observed))], 10, MarkerShape.Square);
        }
        return set.Chart(axis.XAxis($"{law?.SizeName ?? "width"} (log scale)", law?.SizeName ?? "width"),
            logY ? new ChartAxis("optimal learning rate (log scale)", Log: true) : new ChartAxis("final eval loss", Decimals: 3), "The fit has no points.");
    }

    /// <summary>An axis of evidence: the number of ended trials, whole numbers.</summary>
    private static ChartAxis Evidence(string title) => new(title, Ticks: 8, Decimals: 0);

    /// <summary>The trials of each width and rate (a lookup: a 4,320-trial study's panels searched every trial for each cell).</summary>
    private static ILookup<(int Width, double Rate), TrialView> Cells(List<TrialView> sized) => sized.ToLookup(t => (t.Width, t.LearningRate));

    private static List<TrialView> Sized(StudyView study) => study.Trials.Where(t => t.Width >= 1).ToList();

    private static IEnumerable<double> TargetWidths(StudyView study) => study.Spec?.TargetWidths?.Select(w => (double)w) ?? [];

    /// <summary>
    /// A fit's 95% intervals at the study's target widths, for its claims at <paramref name="claimRate"/> (x as log10 width;
    /// y through <paramref name="y"/>, if given). A bar is drawn only within a span of the values the fit saw and claims
    /// (twice for a loss, ten times for a learning rate): an interval wider than that (a law that has barely been checked
    /// out of sample) reaches the chart's edge instead of squashing every curve into a line.
    /// </summary>
    internal static IEnumerable<(double X, double Lower, double Upper)> TargetIntervals(StudyView study, LawFitted fit, double? claimRate,
        Func<double, double>? y = null)
    {
        var targets = TargetWidths(study).ToHashSet();
        y ??= v => v;
        var span = LawRegistry.Default.Find(fit.Law)?.Quantity == LawQuantity.LearningRate ? 10 : 2;
        var seen = fit.Points.Select(p => p.Y).Concat((fit.Predictions ?? []).Select(p => p.Value)).Where(v => v > 0 && double.IsFinite(v)).ToList();
        var (low, high) = seen.Count == 0 ? (double.MinValue, double.MaxValue) : (seen.Min() / span, seen.Max() * span);
        return (fit.Predictions ?? []).Where(p => targets.Contains(p.X) && p.LearningRate == claimRate && p.Lower is not null && p.Upper is not null)
            .Select(p => (Math.Log10(p.X), y(Math.Max(p.Lower!.Value, low)), y(Math.Min(p.Upper!.Value, high))));
    }

    private static double? MeanLoss(IEnumerable<TrialView> trials)
    {
        var losses = trials.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l))
            .Select(t => t.FinalEvalLoss!.Value).ToList();
        return losses.Count == 0 ? null : losses.Average();
    }

    private static double Cell(IReadOnlyList<TrialView> trials)
    {
        if (trials.Count == 0) return UnfinishedCell;
        if (trials.Any(t => t.Status == TrialStatus.Diverged)) return DivergedCell;
        if (trials.Any(t => !t.IsTerminal)) return MeanLoss(trials) ?? UnfinishedCell;
        return MeanLoss(trials) ?? FailedCell;
    }
}

/// <summary>A log10 width axis spanning whole powers of two, with a tick at each (labels read 32, 64, 128...).</summary>
internal readonly record struct WidthAxis(double Min, double Max, int Ticks)
{
    public static WidthAxis Of(IEnumerable<double> widths)
    {
        var list = widths.Where(w => w > 0 && double.IsFinite(w)).ToList();
        var (low, high) = list.Count == 0 ? (0, 10) : ((int)Math.Floor(Math.Log2(list.Min())), (int)Math.Ceiling(Math.Log2(list.Max())));
        if (high == low) high++;
        var ticks = high - low;
        while (ticks > 12) ticks /= 2;
        return new WidthAxis(low * Math.Log10(2), high * Math.Log10(2), ticks);
    }

    public ChartAxis XAxis(string title, string name = "width") => new(title, Log: true, Min, Max, Ticks, Name: name);

    /// <summary>A law's curve over the axis, sampled at <paramref name="samples"/> points (x as log10 width).</summary>
    public IEnumerable<(double X, double Y)> Curve(Func<double, double?> law, int samples)
    {
        for (var i = 0; i < samples; i++)
        {
            var x = Min + (Max - Min) * i / (samples - 1);
            if (law(Math.Pow(10, x)) is { } y) yield return (x, y);
        }
    }
}

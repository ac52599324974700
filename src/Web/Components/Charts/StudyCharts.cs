using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Web.Components.Charts;

/// <summary>
/// The four panels of a study (after Metz, "The difficulty of extrapolation in NN scaling"): loss against width per
/// learning rate with the laws, loss against learning rate per width with the optimum, the rate x width heatmap, and
/// the optimal learning rate against width. Pure: read models in, ApexCharts option graphs out.
/// </summary>
public static class StudyCharts
{
    private const string FrontierColor = "#111827";
    private const string IntervalColor = "#98a2b3";

    /// <summary>Cells of the heatmap that have no loss: values below zero, coloured apart and labelled in the chart.</summary>
    public const double DivergedCell = -1, FailedCell = -2, UnfinishedCell = -3;

    /// <summary>
    /// (a) Final eval loss (mean over completed seeds) against width (log), one colour per rate; fixed-LR lines and the
    /// tuned frontier out to the target widths.
    /// </summary>
    public static object LossVsWidth(StudyView study)
    {
        var sized = Sized(study);
        var rates = sized.Select(t => t.LearningRate).Distinct().Order().ToList();
        var axis = WidthAxis.Of(sized.Select(t => (double)t.Width).Concat(TargetWidths(study)));
        var set = new SeriesSet();
        for (var i = 0; i < rates.Count; i++)
        {
            var lr = rates[i];
            // One point per width: the mean over the completed seeds, what the fixed-LR laws fit (a study of thousands of
            // trials would otherwise draw thousands of markers).
            set.Points($"lr {ChartOptions.Format(lr)}", ChartOptions.Color(i),
                sized.Where(t => t.LearningRate == lr).GroupBy(t => t.Width).OrderBy(g => g.Key)
                    .Select(g => (Math.Log10(g.Key), MeanLoss(g) ?? double.NaN)));
        }
        var observed = sized.Where(t => t.FinalEvalLoss is { } l && double.IsFinite(l)).Select(t => t.FinalEvalLoss!.Value).ToList();
        // Diverged trials are evidence too (the rate is too high for that width): dark squares along the top.
        var top = observed.Count == 0 ? 2.5 : observed.Max() * 1.05;
        var diverged = sized.Where(t => t.Status == TrialStatus.Diverged).Select(t => (Math.Log10(t.Width), top)).Distinct().ToList();
        if (diverged.Count > 0) set.Points("diverged (rate too high)", "#1d2430", diverged, 7, "square");
        // Failed trials are not evidence (the trainer broke, not the model): marked apart along the bottom.
        var bottom = observed.Count == 0 ? 0.0 : observed.Min() * 0.97;
        var failed = sized.Where(t => t.Status == TrialStatus.Failed).Select(t => (Math.Log10(t.Width), bottom)).Distinct().ToList();
        if (failed.Count > 0) set.Points("failed (no result)", "#b197fc", failed, 7, "square");

        var fixedIntervals = new List<(double, double, double)>();
        for (var i = 0; i < rates.Count; i++)
        {
            if (CredibleFit(study, LawNames.FixedLrLogLinear, LawRegistry.RateKey(rates[i])) is not { } fit) continue;
            set.Line($"fit lr {ChartOptions.Format(rates[i])}", ChartOptions.Color(i), axis.Curve(x => LawRegistry.FixedLrLogLinear.Evaluate(fit.Parameters, x), 2), 2, 5);
            fixedIntervals.AddRange(TargetIntervals(study, fit));
        }
        if (fixedIntervals.Count > 0) set.Intervals("fixed-LR 95% at targets", IntervalColor, fixedIntervals);
        if (CredibleFit(study, LawNames.TunedFrontierPower, "all") is { } frontier)
        {
            set.Line("tuned frontier", FrontierColor, axis.Curve(x => LawRegistry.TunedFrontierPower.Evaluate(frontier.Parameters, x), 40), 3);
            set.Intervals("frontier 95% at targets", FrontierColor, TargetIntervals(study, frontier));
        }
        return Mixed(set, axis.XAxis("width (log scale)"), new { title = new { text = "final eval loss" } },
            new { logX = true, xName = "width", yDecimals = 3 }, "No trial has completed yet.");
    }

    /// <summary>(b) Final eval loss (mean over completed seeds) against learning rate (log), one series per width; the fitted optimum marked.</summary>
    public static object LossVsRate(StudyView study)
    {
        var sized = Sized(study);
        var widths = sized.Select(t => t.Width).Distinct().Order().ToList();
        var rates = sized.Select(t => t.LearningRate).Where(r => r > 0).Distinct().Order().ToList();
        var set = new SeriesSet();
        for (var i = 0; i < widths.Count; i++)
        {
            var w = widths[i];
            set.Line($"width {w}", ChartOptions.Color(i),
                rates.Select(r => (Math.Log10(r), MeanLoss(sized.Where(t => t.Width == w && t.LearningRate == r)) ?? double.NaN)), 2, 0, 5);
        }
        var optimum = study.LatestFits.Find(f => f.Law == LawNames.OptimalLr && f.Converged);
        var frontier = study.LatestFits.Find(f => f.Law == LawNames.TunedFrontierPower);
        if (optimum is not null)
        {
            var marks = optimum.Points.Select(p =>
            {
                var atWidth = sized.Where(t => t.Width == (int)p.X).ToList();
                var loss = frontier?.Points.FirstOrDefault(f => f.X == p.X)?.Y
                    ?? rates.Select(r => MeanLoss(atWidth.Where(t => t.LearningRate == r))).Where(l => l is not null).Min() ?? double.NaN;
                return (Math.Log10(p.Y), loss);
            });
            set.Points("fitted optimum per width", FrontierColor, marks, 9, "diamond");
        }
        var axis = rates.Count == 0 ? (Min: -4.0, Max: 0.0) : (Min: Math.Floor(Math.Log10(rates[0]) * 2) / 2, Max: Math.Ceiling(Math.Log10(rates[^1]) * 2) / 2);
        return Mixed(set, new { type = "numeric", min = axis.Min, max = axis.Max, tickAmount = Math.Max(1, (int)Math.Round((axis.Max - axis.Min) * 2)), title = new { text = "learning rate (log scale)" } },
            new { title = new { text = "final eval loss (mean over seeds)" } },
            new { logX = true, xName = "lr", yDecimals = 3 }, "No trial has completed yet.");
    }

    /// <summary>
    /// (c) Heatmap of final eval loss, learning rate x width: a cell is the mean over its completed seeds; diverged,
    /// failed and unfinished cells are coloured apart.
    /// </summary>
    public static object Heatmap(StudyView study)
    {
        var sized = Sized(study);
        var widths = sized.Select(t => t.Width).Distinct().Order().ToList();
        var rates = sized.Select(t => t.LearningRate).Distinct().Order().ToList();
        var values = widths.Select(w => rates.Select(r => Cell(sized.Where(t => t.Width == w && t.LearningRate == r).ToList())).ToList()).ToList();
        var losses = values.SelectMany(v => v).Where(v => v >= 0).ToList();
        var ranges = new List<object>
        {
            new { from = DivergedCell - 0.5, to = DivergedCell + 0.5, color = "#1d2430", name = "diverged" },
            new { from = FailedCell - 0.5, to = FailedCell + 0.5, color = "#b197fc", name = "failed" },
            new { from = UnfinishedCell - 0.5, to = UnfinishedCell + 0.5, color = "#e4e7ec", name = "not ended" },
        };
        if (losses.Count > 0)
        {
            // Six bins between the best and the worst loss, dark (best) to light: the valley of good rates reads at a glance.
            string[] shades = ["#08519c", "#3182bd", "#6baed6", "#c6dbef", "#fdd0a2", "#fd8d3c"];
            var (lo, hi) = (losses.Min(), losses.Max());
            var step = hi > lo ? (hi - lo) / shades.Length : 1;
            for (var i = 0; i < shades.Length; i++)
                ranges.Add(new { from = SeriesSet.Round(lo + i * step), to = SeriesSet.Round(i == shades.Length - 1 ? hi + 1e-9 : lo + (i + 1) * step), color = shades[i], name = $"{lo + i * step:F3}–{lo + (i + 1) * step:F3}" });
        }
        return new
        {
            chart = new { type = "heatmap", height = Math.Max(260, 34 * widths.Count + 90), animations = new { enabled = false }, toolbar = Toolbar },
            series = widths.Select((w, i) => new { name = $"width {w}", data = rates.Select((r, j) => new { x = ChartOptions.Format(r), y = SeriesSet.Round(values[i][j]) }) }),
            plotOptions = new { heatmap = new { enableShades = false, colorScale = new { ranges } } },
            dataLabels = new { enabled = true, style = new { fontSize = "10px" } },
            xaxis = new { title = new { text = "learning rate" } },
            yaxis = new { title = new { text = "width" } },
            legend = new { position = "bottom" },
            noData = new { text = "No trial planned." },
            ledger = new { cellLabels = new Dictionary<string, string> { ["-1"] = "div", ["-2"] = "fail", ["-3"] = "–" } },
        };
    }

    /// <summary>(d) The optimal learning rate against width (both log): each width's fitted optimum, the optimal-LR law and its intervals at the targets.</summary>
    public static object OptimalLr(StudyView study)
    {
        var sized = Sized(study);
        var axis = WidthAxis.Of(sized.Select(t => (double)t.Width).Concat(TargetWidths(study)));
        var set = new SeriesSet();
        var grid = sized.Where(t => t.LearningRate > 0).GroupBy(t => t.Width).OrderBy(g => g.Key)
            .Select(g => (Width: g.Key, Best: g.Where(t => t.Status == TrialStatus.Completed).GroupBy(t => t.LearningRate)
                .Select(r => (Rate: r.Key, Loss: r.Average(t => t.FinalEvalLoss ?? double.NaN))).Where(r => double.IsFinite(r.Loss))
                .OrderBy(r => r.Loss).FirstOrDefault()))
            .Where(g => g.Best.Rate > 0).Select(g => (Math.Log10(g.Width), Math.Log10(g.Best.Rate))).ToList();
        set.Points("best rate on the grid", "#98a2b3", grid, 6, "square");
        if (study.LatestFits.Find(f => f.Law == LawNames.OptimalLr) is { } fit)
        {
            set.Points("fitted optimum (refined)", "#d9480f", fit.Points.Where(p => p.X > 0 && p.Y > 0).Select(p => (Math.Log10(p.X), Math.Log10(p.Y))), 8, "circle");
            if (fit.Converged && CredibilityRule.Assess(fit).Credible)
            {
                set.Line($"optimal-lr law (d = {ChartOptions.Format(fit.Parameters.GetValueOrDefault("d"))})", "#d9480f",
                    axis.Curve(x => LawRegistry.OptimalLr.Evaluate(fit.Parameters, x) is { } lr && lr > 0 ? Math.Log10(lr) : null, 2), 2, 5);
                set.Intervals("optimal-lr 95% at targets", "#d9480f",
                    TargetIntervals(study, fit, v => v > 0 ? Math.Log10(v) : double.NaN));
            }
        }
        return Mixed(set, axis.XAxis("width (log scale)"), new { title = new { text = "learning rate (log scale)" } },
            new { logX = true, logY = true, xName = "width" }, "No width has its optimum bracketed yet.");
    }

    /// <summary>
    /// What the ledger believed as evidence arrived: for each width a law predicted, the prediction and its interval against
    /// the number of ended trials it was based on, and the observed value once it came.
    /// </summary>
    public static object BeliefHistory(BeliefHistoryView history, string law, string key)
    {
        // A learning rate is a scale: the optimal-LR law's claims are drawn on a log axis.
        var logY = law == LawNames.OptimalLr;
        double Y(double v) => logY ? (v > 0 ? Math.Log10(v) : double.NaN) : v;
        var set = new SeriesSet();
        var i = 0;
        foreach (var s in history.Predictions.Where(s => s.Law == law && s.Key == key).OrderByDescending(s => s.Reason.Contains("target")).ThenBy(s => s.Width))
        {
            var color = ChartOptions.Color(i++);
            var label = $"width {s.Width:G6}{(s.Reason.Contains("target") ? " (target)" : "")}";
            set.Line(label, color, s.Points.Select(p => ((double)p.Evidence, Y(p.Predicted))), 2, 0, 4);
            set.Intervals($"{label} 95%", color, s.Points.Select(p => ((double)p.Evidence, Y(p.Lower), Y(p.Upper))));
            if (s.Observed is { } o && s.ObservedAtEvidence is { } at) set.Points($"{label} observed", color, [((double)at, Y(o))], 9, "diamond");
        }
        return Mixed(set, new { type = "numeric", title = new { text = "ended trials the prediction was based on" }, tickAmount = 8, decimalsInFloat = 0 },
            new { title = new { text = logY ? "predicted optimal learning rate (log scale)" : "predicted final loss" } },
            logY ? new { logY = true } : (object)new { yDecimals = 3 }, "No credible prediction of this law yet.");
    }

    /// <summary>The optimal-LR law's slope d with its interval, against the evidence it was fitted on.</summary>
    public static object SlopeHistory(BeliefHistoryView history)
    {
        var set = new SeriesSet();
        var credible = history.OptimalLrSlope.Where(p => p.Credible).ToList();
        set.Line("slope d", "#d9480f", credible.Select(p => ((double)p.Evidence, p.Value)), 2, 0, 5);
        set.Intervals("d 95%", "#d9480f", credible.Where(p => p.Lower is not null && p.Upper is not null).Select(p => ((double)p.Evidence, p.Lower!.Value, p.Upper!.Value)));
        var set2 = history.OptimalLrSlope.Where(p => !p.Credible).Select(p => ((double)p.Evidence, p.Value)).ToList();
        if (set2.Count > 0) set.Points("slope d (fit not credible)", "#98a2b3", set2, 5, "square");
        return Mixed(set, new { type = "numeric", title = new { text = "ended trials the fit was based on" }, tickAmount = 8, decimalsInFloat = 0 },
            new { title = new { text = "d in ln lr* = c + d ln width" } }, new { yDecimals = 2 }, "The optimal-LR law has not been fitted yet.");
    }

    /// <summary>A fit with its evidence points, its curve, its intervals and (for the audit) the predicted and observed point.</summary>
    public static object Fit(LawFitted fit, PredictionIssued? prediction, PredictionResolved? resolution)
    {
        var law = LawRegistry.Find(fit.Law);
        var logY = fit.Law == LawNames.OptimalLr;
        double Y(double v) => logY ? (v > 0 ? Math.Log10(v) : double.NaN) : v;
        var xs = fit.Points.Select(p => p.X).Concat(fit.Predictions?.Select(p => p.X) ?? []).Where(x => x > 0).ToList();
        if (prediction is not null) xs.Add(prediction.Width);
        var axis = WidthAxis.Of(xs);
        var set = new SeriesSet();
        set.Points("evidence (fitted points)", "#2e5bba", fit.Points.Where(p => p.X > 0).Select(p => (Math.Log10(p.X), Y(p.Y))));
        if (law is { PredictsWidths: true } && fit.Converged)
            set.Line("fitted law", FrontierColor, axis.Curve(x => law.Evaluate(fit.Parameters, x) is { } v ? Y(v) : null, fit.Law == LawNames.FixedLrLogLinear ? 2 : 40), 2);
        set.Intervals("fit's 95% intervals", IntervalColor,
            (fit.Predictions ?? []).Where(p => p.Lower is not null && p.Upper is not null && p.X > 0)
                .Select(p => (Math.Log10(p.X), Y(p.Lower!.Value), Y(p.Upper!.Value))));
        if (prediction is not null)
        {
            set.Intervals("this prediction's 95%", "#d9480f", [(Math.Log10(prediction.Width), Y(prediction.Lower), Y(prediction.Upper))]);
            set.Points("predicted", "#d9480f", [(Math.Log10(prediction.Width), Y(prediction.Predicted))], 8, "diamond");
            if (resolution?.Observed is { } observed)
                set.Points("observed", resolution.Inside ? "#2b8a3e" : "#c92a2a", [(Math.Log10(prediction.Width), Y(observed))], 10, "square");
        }
        return Mixed(set, axis.XAxis(fit.Law == LawNames.Chinchilla ? "parameters (log scale)" : "width (log scale)"),
            new { title = new { text = logY ? "optimal learning rate (log scale)" : "final eval loss" } },
            logY ? new { logX = true, logY = true, xName = "width" } : (object)new { logX = true, xName = "width", yDecimals = 3 }, "The fit has no points.");
    }

    internal static object Mixed(SeriesSet set, object xaxis, object yaxis, object ledger, string noData, int height = 380) => new
    {
        chart = new { type = "line", height, animations = new { enabled = false }, toolbar = Toolbar, zoom = new { enabled = false } },
        // No point at all: no series, so that ApexCharts shows the noData text instead of drawing at infinite coordinates.
        series = set.HasPoints ? set.Series : [],
        colors = set.Colors,
        markers = new { size = set.MarkerSizes, shape = set.Shapes },
        stroke = new { width = set.StrokeWidths, dashArray = set.Dashes, curve = "straight" },
        xaxis,
        yaxis,
        legend = new { position = "right", width = 230 },
        tooltip = new { shared = false, intersect = true },
        noData = new { text = noData },
        ledger = set.HasPoints ? ledger : new { empty = noData },
    };

    /// <summary>ApexCharts' own toolbar: its menu downloads the chart as SVG or PNG (and its data as CSV).</summary>
    internal static readonly object Toolbar = new { show = true, tools = new { download = true, selection = false, zoom = false, zoomin = false, zoomout = false, pan = false, reset = false } };

    private static List<TrialView> Sized(StudyView study) => study.Trials.Where(t => t.Width >= 1).ToList();

    private static IEnumerable<double> TargetWidths(StudyView study) => study.Spec?.TargetWidths?.Select(w => (double)w) ?? [];

    /// <summary>The newest converged, credible fit of a law and key (a fit that is not credible draws nothing).</summary>
    internal static LawFitted? CredibleFit(StudyView study, string law, string key) =>
        study.LatestFits.Find(f => f.Law == law && f.Key == key && f.Converged) is { } fit && CredibilityRule.Assess(fit).Credible ? fit : null;

    /// <summary>A fit's 95% intervals at the study's target widths (x as log10 width; y through <paramref name="y"/>, if given).</summary>
    internal static IEnumerable<(double X, double Lower, double Upper)> TargetIntervals(StudyView study, LawFitted fit, Func<double, double>? y = null)
    {
        var targets = TargetWidths(study).ToHashSet();
        y ??= v => v;
        return (fit.Predictions ?? []).Where(p => targets.Contains(p.X) && p.Lower is not null && p.Upper is not null)
            .Select(p => (Math.Log10(p.X), y(p.Lower!.Value), y(p.Upper!.Value)));
    }

    private static double? MeanLoss(IEnumerable<TrialView> trials)
    {
        var losses = trials.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l)).Select(t => t.FinalEvalLoss!.Value).ToList();
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

    public object XAxis(string title) => new { type = "numeric", min = Min, max = Max, tickAmount = Ticks, title = new { text = title } };

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

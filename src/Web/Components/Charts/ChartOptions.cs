using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Web.Components.Charts;

/// <summary>Builds ApexCharts option graphs from read models. Pure: no JS, no services.</summary>
public static class ChartOptions
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly string[] Palette =
        ["#2e5bba", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#0b7285", "#e67700", "#5c940d", "#364fc7", "#a61e4d", "#495057", "#1098ad"];

    public static string Serialize(object options) => JsonSerializer.Serialize(options, Json);

    /// <summary>
    /// Final eval loss against width on a log axis, one colour per learning rate: the trials as points and the
    /// fixed-LR log-linear fits as dashed lines reaching out to the target widths.
    /// </summary>
    public static object LossVsWidth(StudyView study)
    {
        // Runs imported with a parameter count but no width have no place on a width axis.
        var sized = study.Trials.Where(t => t.Width >= 1).ToList();
        var rates = sized.Select(t => t.LearningRate).Distinct().Order().ToList();
        var widths = sized.Select(t => (double)t.Width).Concat(study.Spec?.TargetWidths?.Select(w => (double)w) ?? []).ToList();
        // The axis spans whole powers of two, with a tick at each, so tick labels read 32, 64, 128...
        var (lowPow, highPow) = widths.Count == 0 ? (0, 10) : ((int)Math.Floor(Math.Log2(widths.Min())), (int)Math.Ceiling(Math.Log2(widths.Max())));
        if (highPow == lowPow) highPow++;
        var (minX, maxX) = (lowPow * Math.Log10(2), highPow * Math.Log10(2));
        var ticks = highPow - lowPow;
        while (ticks > 12) ticks /= 2;

        var series = new List<object>();
        var colors = new List<string>();
        var markerSizes = new List<int>();
        var shapes = new List<string>();
        var strokeWidths = new List<int>();
        var dashes = new List<int>();
        for (var i = 0; i < rates.Count; i++)
        {
            var lr = rates[i];
            var points = sized
                .Where(t => t.LearningRate == lr && t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l))
                .OrderBy(t => t.Width)
                .Select(t => new { x = Math.Log10(t.Width), y = Round(t.FinalEvalLoss!.Value) })
                .ToList();
            series.Add(new { name = $"lr {Format(lr)}", type = "scatter", data = points });
            colors.Add(Palette[i % Palette.Length]);
            markerSizes.Add(6);
            shapes.Add("circle");
            strokeWidths.Add(0);
            dashes.Add(0);
        }
        // Diverged trials are evidence too (the rate is too high for that width): drawn as dark squares along the top.
        var observed = sized.Where(t => t.FinalEvalLoss is { } l && double.IsFinite(l)).Select(t => t.FinalEvalLoss!.Value).ToList();
        var top = observed.Count == 0 ? 2.5 : observed.Max() * 1.05;
        var diverged = sized.Where(t => t.Status == TrialStatus.Diverged).OrderBy(t => t.Width)
            .Select(t => new { x = Math.Log10(t.Width), y = Round(top) }).ToList();
        if (diverged.Count > 0)
        {
            series.Add(new { name = "diverged (rate too high)", type = "scatter", data = diverged });
            colors.Add("#1d2430");
            markerSizes.Add(7);
            shapes.Add("square");
            strokeWidths.Add(0);
            dashes.Add(0);
        }
        // Failed trials are not evidence (the trainer broke, not the model): marked apart, along the bottom.
        var bottom = observed.Count == 0 ? 0.0 : observed.Min() * 0.97;
        var failed = sized.Where(t => t.Status == TrialStatus.Failed).OrderBy(t => t.Width)
            .Select(t => new { x = Math.Log10(t.Width), y = Round(bottom) }).ToList();
        if (failed.Count > 0)
        {
            series.Add(new { name = "failed (no result)", type = "scatter", data = failed });
            colors.Add("#b197fc");
            markerSizes.Add(7);
            shapes.Add("square");
            strokeWidths.Add(0);
            dashes.Add(0);
        }
        for (var i = 0; i < rates.Count; i++)
        {
            var key = LawRegistry.RateKey(rates[i]);
            var fit = study.LatestFits.Find(f => f.Law == LawNames.FixedLrLogLinear && f.Key == key && f.Converged);
            if (fit is null) continue;
            // The law draws itself: its own evaluation at each end of the axis (a straight line on a log-width axis).
            double Line(double log10X) => LawRegistry.FixedLrLogLinear.Evaluate(fit.Parameters, Math.Pow(10, log10X)) ?? double.NaN;
            series.Add(new
            {
                name = $"fit lr {Format(rates[i])}",
                type = "line",
                data = new[] { new { x = minX, y = Round(Line(minX)) }, new { x = maxX, y = Round(Line(maxX)) } },
            });
            colors.Add(Palette[i % Palette.Length]);
            markerSizes.Add(0);
            shapes.Add("circle");
            strokeWidths.Add(2);
            dashes.Add(5);
        }

        return new
        {
            chart = new { type = "line", height = 380, animations = new { enabled = false }, toolbar = new { show = true }, zoom = new { enabled = false } },
            series,
            colors,
            markers = new { size = markerSizes, shape = shapes },
            stroke = new { width = strokeWidths, dashArray = dashes, curve = "straight" },
            xaxis = new
            {
                type = "numeric", min = minX, max = maxX, tickAmount = ticks,
                title = new { text = "width (log scale)" },
            },
            yaxis = new { title = new { text = "final eval loss" } },
            legend = new { position = "right" },
            noData = new { text = "No trial has completed yet." },
            ledger = new { logX = true, xName = "width", yDecimals = 3 },
        };
    }

    /// <summary>A trial's curve: train loss (mean since the previous checkpoint) and held-out eval loss against step.</summary>
    public static object LossCurve(TrialView trial) => new
    {
        chart = new { type = "line", height = 320, animations = new { enabled = false }, zoom = new { enabled = false } },
        series = new object[]
        {
            new { name = "train loss", data = trial.Checkpoints.Select(c => new { x = c.Step, y = Round(c.TrainLoss) }) },
            new { name = "eval loss (held-out)", data = trial.Checkpoints.Select(c => new { x = c.Step, y = Round(c.EvalLoss) }) },
        },
        colors = new[] { "#2e5bba", "#d9480f" },
        markers = new { size = 4 },
        stroke = new { width = 2, curve = "straight" },
        xaxis = new { type = "numeric", title = new { text = "step" } },
        yaxis = new { title = new { text = "loss" } },
        noData = new { text = "No checkpoint yet." },
        ledger = new { yDecimals = 3 },
    };

    /// <summary>
    /// A coordinate check: mean |output| of each layer after the last step against width (both on log scales).
    /// Flat lines are what muP promises; lines rising with width are the standard parametrization's.
    /// </summary>
    public static object CoordinateCheck(ScalingLedger.Contracts.CoordinateCheckRecorded check)
    {
        var series = check.Layers.Select((layer, i) => new
        {
            name = layer,
            data = check.Widths.Where(w => w.MeanAbsActivation.Count > 0 && double.IsFinite(w.MeanAbsActivation[^1][i]))
                .Select(w => new { x = Math.Log10(w.Width), y = Math.Round(Math.Log10(Math.Max(w.MeanAbsActivation[^1][i], 1e-12)), 5) }),
        });
        return new
        {
            chart = new { type = "line", height = 300, animations = new { enabled = false }, zoom = new { enabled = false } },
            series,
            markers = new { size = 5 },
            stroke = new { width = 2, curve = "straight" },
            colors = Palette,
            xaxis = new { type = "numeric", title = new { text = "width (log scale)" }, tickAmount = Math.Max(1, check.Widths.Count - 1) },
            yaxis = new { title = new { text = $"mean |output| after step {check.Steps} (log scale)" } },
            ledger = new { logX = true, logY = true, xName = "width" },
        };
    }

    public static string Format(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    private static double Round(double v) => Math.Round(v, 5);
}

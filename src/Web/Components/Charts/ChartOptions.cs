using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
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

    /// <summary>The palette's colour for the <paramref name="i"/>-th series (it cycles).</summary>
    public static string Color(int i) => Palette[i % Palette.Length];

    /// <summary>A trial's curve: train loss (mean since the previous checkpoint) and held-out eval loss against step.</summary>
    public static object LossCurve(TrialView trial) => new
    {
        chart = new { type = "line", height = 320, animations = new { enabled = false }, toolbar = StudyCharts.Toolbar, zoom = new { enabled = false } },
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
            chart = new { type = "line", height = 300, animations = new { enabled = false }, toolbar = StudyCharts.Toolbar, zoom = new { enabled = false } },
            series,
            markers = new { size = 5 },
            stroke = new { width = 2, curve = "straight" },
            colors = Palette,
            xaxis = new { type = "numeric", title = new { text = "width (log scale)" }, tickAmount = Math.Max(1, check.Widths.Count - 1) },
            yaxis = new { title = new { text = $"mean |output| after step {check.Steps} (log scale)" } },
            ledger = new { logX = true, logY = true, xName = "width" },
        };
    }

    private static double Round(double v) => Math.Round(v, 5);
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ScalingLedger.Domain.Charts;

namespace ScalingLedger.Web.Components.Charts;

/// <summary>
/// A <see cref="Chart"/> as ApexCharts' options, in JSON: what <see cref="LedgerChart"/> hands the browser. The only place
/// that knows ApexCharts' vocabulary on the Server; its <c>ledger</c> section asks ledger-chart.js for what JSON cannot carry
/// (log and fixed-place labels, a heatmap's named cells, an empty chart's words). Pure.
/// </summary>
public static class ApexOptions
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>ApexCharts' own toolbar: its menu downloads the chart as SVG or PNG (and its data as CSV).</summary>
    private static readonly object Toolbar = new
    {
        show = true, tools = new { download = true, selection = false, zoom = false, zoomin = false, zoomout = false, pan = false, reset = false }
    };

    public static string Json(Chart chart) => JsonSerializer.Serialize(Graph(chart), Options);

    private static object Graph(Chart chart) => chart switch
    {
        PlotChart plot => Plot(plot),
        HeatmapChart heatmap => Heatmap(heatmap),
        _ => throw new ArgumentException($"No ApexCharts options for a {chart.GetType().Name}", nameof(chart)),
    };

    private static object Plot(PlotChart chart) => new
    {
        chart = new { type = "line", height = chart.Height, animations = new { enabled = false }, toolbar = Toolbar, zoom = new { enabled = false } },
        // No point at all: no series, so that ApexCharts shows the noData text instead of drawing at infinite coordinates.
        series = chart.IsEmpty ? [] : chart.Series.Select(s => new
        {
            name = s.Name,
            type = s.Kind == SeriesKind.Points ? "scatter" : "line",
            // Dictionaries, not anonymous objects: the serializer leaves null properties out but keeps a dictionary's null,
            // and the gap that ends an interval bar needs its explicit null y.
            data = s.Points.Select(p => new Dictionary<string, double?> { ["x"] = Round(p.X), ["y"] = p.Y is { } y ? Round(y) : null }),
        }).ToList(),
        colors = chart.Series.Select(s => s.Color),
        markers = new { size = chart.Series.Select(s => s.MarkerSize), shape = chart.Series.Select(s => Shape(s.Shape)) },
        stroke = new { width = chart.Series.Select(s => s.StrokeWidth), dashArray = chart.Series.Select(s => s.Dash), curve = "straight" },
        xaxis = new
        {
            type = "numeric", min = chart.X.Min, max = chart.X.Max, tickAmount = chart.X.Ticks, title = new { text = chart.X.Title },
            decimalsInFloat = chart.X.Log ? null : chart.X.Decimals,
        },
        yaxis = new { min = chart.Y.Min, max = chart.Y.Max, tickAmount = chart.Y.Ticks, title = new { text = chart.Y.Title } },
        legend = new { position = "right", width = 230 },
        // Curves alone (a trial's losses, a coordinate check) share one tooltip per x; among points and bars, the one hovered.
        tooltip = chart.Series.All(s => s.Kind == SeriesKind.Line) ? new { shared = true, intersect = false } : new { shared = false, intersect = true },
        noData = new { text = chart.NoData },
        ledger = chart.IsEmpty ? (object)new { empty = chart.NoData } : new
        {
            logX = chart.X.Log ? true : (bool?)null,
            logY = chart.Y.Log ? true : (bool?)null,
            xName = chart.X.Log ? chart.X.Name ?? "x" : null,
            yDecimals = chart.Y.Log ? null : chart.Y.Decimals,
        },
    };

    private static object Heatmap(HeatmapChart chart) => new
    {
        chart = new { type = "heatmap", height = chart.Height, animations = new { enabled = false }, toolbar = Toolbar },
        series = chart.Rows.Select(r => new { name = r.Name, data = chart.Columns.Select((c, j) => new { x = c, y = Round(r.Values[j]) }) }),
        plotOptions = new
        {
            heatmap = new
            {
                enableShades = false,
                colorScale = new { ranges = chart.Ranges.Select(r => new { from = Round(r.From), to = Round(r.To), color = r.Color, name = r.Name }) },
            }
        },
        dataLabels = new { enabled = true, style = new { fontSize = "10px" } },
        xaxis = new { title = new { text = chart.XTitle } },
        yaxis = new { title = new { text = chart.YTitle } },
        legend = new { position = "bottom" },
        noData = new { text = chart.NoData },
        // Not yDecimals: ledger-chart.js would format the y axis' labels, which in a heatmap are the rows' names, as numbers.
        ledger = chart.IsEmpty ? (object)new { empty = chart.NoData } : new
        {
            cellLabels = chart.CellLabels.ToDictionary(c => c.Key.ToString(CultureInfo.InvariantCulture), c => c.Value),
        },
    };

    private static string Shape(MarkerShape shape) => shape switch
    {
        MarkerShape.Square => "square",
        MarkerShape.Diamond => "diamond",
        _ => "circle",
    };

    private static double Round(double v) => Math.Round(v, 6);
}

using System.Globalization;
using System.Net;
using System.Text;
using ScalingLedger.Domain.Charts;

namespace ScalingLedger.Web.Components.Charts;

/// <summary>
/// A chart's first paint: the <see cref="Chart"/> that <see cref="LedgerChart"/> hands ApexCharts, drawn on the Server as plain
/// SVG (lines, markers, interval bars, heatmap cells, axes and legend), so a page shows its figures in the HTML itself, before
/// any script has loaded or the circuit has started; ApexCharts draws the interactive chart over it once the page is
/// interactive. Pure: a chart in, markup out; every name is encoded, every colour checked.
/// </summary>
public static class ChartSvg
{
    private const int Width = 720;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The chart as an <c>svg</c> element, its <see cref="Chart.Height"/> pixels high.</summary>
    public static string Draw(Chart chart)
    {
        var height = chart.Height;
        var svg = new StringBuilder(8192);
        svg.Append(Inv, $"<svg class=\"chart-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {height}\" width=\"100%\" ")
            .Append(Inv, $"height=\"{height}\" preserveAspectRatio=\"xMinYMin meet\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\" ")
            .Append("role=\"img\">");
        if (chart.IsEmpty) Text(svg, Width / 2.0, height / 2.0, chart.NoData, "middle", "#667085", 13);
        else if (chart is HeatmapChart heatmap) Heatmap(svg, heatmap, height);
        else if (chart is PlotChart plot) Plot(svg, plot, height);
        return svg.Append("</svg>").ToString();
    }

    private static void Plot(StringBuilder svg, PlotChart chart, int height)
    {
        var runs = chart.Series.Select(s => s.Runs().ToList()).ToList();
        var points = runs.SelectMany(r => r.SelectMany(run => run)).ToList();
        var (xaxis, yaxis) = (chart.X, chart.Y);
        var (x0, x1, xTicks) = xaxis.Min is { } xMin && xaxis.Max is { } xMax && xMax > xMin
            ? (xMin, xMax, Math.Clamp(xaxis.Ticks ?? 6, 1, 12))
            : Nice(points.Min(p => p.X), points.Max(p => p.X), xaxis.Ticks ?? 6);
        var (y0, y1, yTicks) = Nice(points.Min(p => p.Y), points.Max(p => p.Y), 5);
        var area = new Area(60, 12, Width - 250, height - 52);
        double X(double x) => area.Left + (x - x0) / (x1 - x0) * (area.Right - area.Left);
        double Y(double y) => area.Bottom - (y - y0) / (y1 - y0) * (area.Bottom - area.Top);

        // Not the x axis' decimals: its ticks are spread evenly, and a tick at 2.5 read as 3 would lie.
        Func<double, string> xLabel = xaxis.Log ? ChartStyle.Pow10 : v => v.ToString("0.##", Inv);
        Func<double, string> yLabel = yaxis.Log ? ChartStyle.Pow10 : yaxis.Decimals is { } d ? v => v.ToString("F" + Math.Clamp(d, 0, 6), Inv)
            : v => v.ToString("0.###", Inv);
        svg.Append("<g stroke=\"#e4e7ec\" stroke-width=\"1\">");
        for (var i = 0; i <= yTicks; i++)
        {
            var y = F(Y(y0 + i * (y1 - y0) / yTicks));
            svg.Append(Inv, $"<line x1=\"{area.Left}\" x2=\"{area.Right}\" y1=\"{y}\" y2=\"{y}\"/>");
        }
        svg.Append("</g>");
        for (var i = 0; i <= xTicks; i++)
        {
            var v = x0 + i * (x1 - x0) / xTicks;
            Text(svg, X(v), area.Bottom + 15, xLabel(v), "middle", "#373d3f", 11);
        }
        for (var i = 0; i <= yTicks; i++)
        {
            var v = y0 + i * (y1 - y0) / yTicks;
            Text(svg, area.Left - 6, Y(v) + 4, yLabel(v), "end", "#373d3f", 11);
        }
        Text(svg, (area.Left + area.Right) / 2, height - 10, xaxis.Title, "middle", "#373d3f", 12);
        svg.Append(Inv, $"<g transform=\"translate(14 {F((area.Top + area.Bottom) / 2)}) rotate(-90)\">");
        Text(svg, 0, 0, yaxis.Title, "middle", "#373d3f", 12);
        svg.Append("</g>");

        for (var i = 0; i < chart.Series.Count; i++)
        {
            var series = chart.Series[i];
            var color = Color(series.Color);
            var scatter = series.Kind == SeriesKind.Points || series.StrokeWidth <= 0;
            foreach (var run in runs[i])
            {
                if (!scatter && run.Count > 1)
                {
                    svg.Append(Inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{F(series.StrokeWidth)}\"")
                        .Append(series.Dash > 0 ? $" stroke-dasharray=\"{F(series.Dash)}\"" : "").Append(" points=\"");
                    foreach (var p in run) svg.Append(F(X(p.X))).Append(',').Append(F(Y(p.Y))).Append(' ');
                    svg.Append("\"/>");
                }
                var r = scatter ? Math.Max(series.MarkerSize, 3) / 1.6 : series.MarkerSize / 1.6;
                if (r <= 0) continue;
                // One path for a run's markers: thousands of points stay a handful of elements.
                svg.Append(Inv, $"<path class=\"markers\" fill=\"{color}\" stroke=\"#fff\" stroke-width=\"0.8\" d=\"");
                foreach (var p in run) Marker(svg, series.Shape, X(p.X), Y(p.Y), r);
                svg.Append("\"/>");
            }
        }
        svg.Append(Inv, $"<rect x=\"{area.Left}\" y=\"{area.Top}\" width=\"{area.Right - area.Left}\" height=\"{area.Bottom - area.Top}\" ")
            .Append("fill=\"none\" stroke=\"#c9ced6\"/>");
        Legend(svg, chart.Series, area.Right + 16, area.Top, height);
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<ChartSeries> series, double left, double top, int height)
    {
        var y = top + 8;
        for (var i = 0; i < series.Count && y < height - 8; i++, y += 17)
        {
            svg.Append(Inv, $"<circle cx=\"{F(left + 5)}\" cy=\"{F(y - 4)}\" r=\"5\" fill=\"{Color(series[i].Color)}\"/>");
            var name = series[i].Name;
            Text(svg, left + 15, y, name.Length > 34 ? name[..33] + "…" : name, "start", "#373d3f", 11);
        }
    }

    private static void Heatmap(StringBuilder svg, HeatmapChart chart, int height)
    {
        var (columns, rows) = (chart.Columns, chart.Rows);
        var area = new Area(78, 8, Width - 10, height - 62);
        double cellW = (area.Right - area.Left) / Math.Max(1, columns.Count), cellH = (area.Bottom - area.Top) / rows.Count;
        for (var row = 0; row < rows.Count; row++)
        {
            // The first row at the bottom, as ApexCharts draws a heatmap.
            var top = area.Bottom - (row + 1) * cellH;
            Text(svg, area.Left - 6, top + cellH / 2 + 4, rows[row].Name, "end", "#373d3f", 11);
            var values = rows[row].Values;
            for (var col = 0; col < values.Count && col < columns.Count; col++)
            {
                var value = values[col];
                var fill = chart.Ranges.FirstOrDefault(r => value >= r.From && value <= r.To) is { } range ? Color(range.Color) : "#e4e7ec";
                var left = area.Left + col * cellW;
                svg.Append(Inv, $"<rect x=\"{F(left)}\" y=\"{F(top)}\" width=\"{F(cellW)}\" height=\"{F(cellH)}\" fill=\"{fill}\" stroke=\"#fff\"/>");
                Text(svg, left + cellW / 2, top + cellH / 2 + 3.5, chart.Label(value), "middle", Dark(fill) ? "#fff" : "#1d2430", 10);
            }
        }
        for (var col = 0; col < columns.Count; col++) Text(svg, area.Left + (col + 0.5) * cellW, area.Bottom + 14, columns[col], "middle", "#373d3f", 10);
        Text(svg, (area.Left + area.Right) / 2, area.Bottom + 30, chart.XTitle, "middle", "#373d3f", 12);
        var x = area.Left;
        foreach (var range in chart.Ranges.Where(r => r.Name.Length > 0))
        {
            svg.Append(Inv, $"<rect x=\"{F(x)}\" y=\"{height - 20}\" width=\"10\" height=\"10\" fill=\"{Color(range.Color)}\"/>");
            Text(svg, x + 14, height - 11, range.Name, "start", "#373d3f", 10);
            x += 20 + 6 * range.Name.Length;
        }
    }

    private static void Marker(StringBuilder svg, MarkerShape shape, double x, double y, double r)
    {
        var (d, h) = (F(2 * r), F(r));
        switch (shape)
        {
            case MarkerShape.Square:
                svg.Append(Inv, $"M{F(x - r)},{F(y - r)}h{d}v{d}h-{d}z");
                break;
            case MarkerShape.Diamond:
                svg.Append(Inv, $"M{F(x)},{F(y - r)}l{h},{h}l-{h},{h}l-{h},-{h}z");
                break;
            default:
                svg.Append(Inv, $"M{F(x - r)},{F(y)}a{h},{h} 0 1,0 {d},0a{h},{h} 0 1,0 -{d},0z");
                break;
        }
    }

    private static void Text(StringBuilder svg, double x, double y, string text, string anchor, string color, int size)
    {
        if (text.Length == 0) return;
        svg.Append(Inv, $"<text x=\"{F(x)}\" y=\"{F(y)}\" text-anchor=\"{anchor}\" fill=\"{color}\" font-size=\"{size}\">")
            .Append(WebUtility.HtmlEncode(text)).Append("</text>");
    }

    /// <summary>An axis over [low, high] widened to round numbers (1, 2, 2.5 or 5 times a power of ten a tick), about <paramref name="ticks"/> ticks.</summary>
    private static (double Low, double High, int Ticks) Nice(double low, double high, int ticks)
    {
        if (!(double.IsFinite(low) && double.IsFinite(high))) return (0, 1, 5);
        if (high <= low) (low, high) = (low - 0.5, high + 0.5);
        ticks = Math.Clamp(ticks, 2, 12);
        var raw = (high - low) / ticks;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw * (1 - 1e-9));
        var (niceLow, niceHigh) = (Math.Floor(low / step + 1e-9) * step, Math.Ceiling(high / step - 1e-9) * step);
        return (niceLow, niceHigh, Math.Max(1, (int)Math.Round((niceHigh - niceLow) / step)));
    }

    /// <summary>A colour as ApexCharts takes it; anything but a plain #hex colour is drawn grey (it is written into an attribute).</summary>
    private static string Color(string? color) =>
        color is { Length: 4 or 7 } c && c[0] == '#' && c.Skip(1).All(Uri.IsHexDigit) ? c : "#98a2b3";

    /// <summary>Whether a #hex colour is dark enough to take white text.</summary>
    private static bool Dark(string color)
    {
        if (color.Length != 7) return false;
        int Channel(int at) => int.Parse(color.AsSpan(at, 2), NumberStyles.HexNumber, Inv);
        return 0.299 * Channel(1) + 0.587 * Channel(3) + 0.114 * Channel(5) < 140;
    }

    private readonly record struct Area(double Left, double Top, double Right, double Bottom);

    private static string F(double v) => v.ToString("0.#", Inv);
}

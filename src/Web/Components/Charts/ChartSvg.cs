using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using static ScalingLedger.Web.Components.Charts.ChartJson;

namespace ScalingLedger.Web.Components.Charts;

/// <summary>
/// A chart's first paint: the ApexCharts options that <see cref="LedgerChart"/> hands the browser, drawn on the Server as plain
/// SVG (lines, markers, interval bars, heatmap cells, axes and legend), so a page shows its figures in the HTML itself, before
/// any script has loaded or the circuit has started; ApexCharts draws the interactive chart over it once the page is
/// interactive. Pure: JSON in, markup out; every name is encoded. Reads the options <see cref="StudyCharts"/> and
/// <see cref="ChartOptions"/> build (mixed line and scatter series, heatmaps, an empty chart's words), not ApexCharts' whole
/// vocabulary.
/// </summary>
public static class ChartSvg
{
    private const int Width = 720;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The chart as an <c>svg</c> element <paramref name="height"/> pixels high, unless its options give a height.</summary>
    public static string Draw(string json, int height) => Draw(json, height, out _);

    /// <summary>The chart as an <c>svg</c> element, and the height it was drawn at.</summary>
    public static string Draw(string json, int height, out int drawnHeight)
    {
        var options = JsonNode.Parse(json) ?? new JsonObject();
        height = drawnHeight = (int)(Num(options["chart"]?["height"]) ?? height);
        var svg = new StringBuilder(8192);
        svg.Append(Inv, $"<svg class=\"chart-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {height}\" width=\"100%\" ")
            .Append(Inv, $"height=\"{height}\" preserveAspectRatio=\"xMinYMin meet\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\" ")
            .Append("role=\"img\">");
        var series = options["series"] as JsonArray;
        if (Str(options["ledger"]?["empty"]) is { } empty || series is null || series.Count == 0)
            Text(svg, Width / 2.0, height / 2.0, Str(options["ledger"]?["empty"]) ?? Str(options["noData"]?["text"]) ?? "No data", "middle", "#667085", 13);
        else if (Str(options["chart"]?["type"]) == "heatmap") Heatmap(svg, options, series, height);
        else Mixed(svg, options, series, height);
        return svg.Append("</svg>").ToString();
    }

    private static void Mixed(StringBuilder svg, JsonNode options, JsonArray series, int height)
    {
        var ledger = options["ledger"];
        bool logX = Bool(ledger?["logX"]), logY = Bool(ledger?["logY"]);
        var decimals = (int?)Num(ledger?["yDecimals"]);
        var runs = series.Select(s => Runs(s?["data"] as JsonArray)).ToList();
        var points = runs.SelectMany(r => r.SelectMany(run => run)).ToList();
        if (points.Count == 0)
        {
            Text(svg, Width / 2.0, height / 2.0, Str(options["noData"]?["text"]) ?? "No data", "middle", "#667085", 13);
            return;
        }
        var xaxis = First(options["xaxis"]);
        var yaxis = First(options["yaxis"]);
        var (x0, x1, xTicks) = Num(xaxis?["min"]) is { } xMin && Num(xaxis?["max"]) is { } xMax && xMax > xMin
            ? (xMin, xMax, Math.Clamp((int)(Num(xaxis?["tickAmount"]) ?? 6), 1, 12))
            : Nice(points.Min(p => p.X), points.Max(p => p.X), (int)(Num(xaxis?["tickAmount"]) ?? 6));
        var (y0, y1, yTicks) = Nice(points.Min(p => p.Y), points.Max(p => p.Y), 5);
        var area = new Area(60, 12, Width - 250, height - 52);
        double X(double x) => area.Left + (x - x0) / (x1 - x0) * (area.Right - area.Left);
        double Y(double y) => area.Bottom - (y - y0) / (y1 - y0) * (area.Bottom - area.Top);

        Func<double, string> xLabel = logX ? Pow10 : v => v.ToString("0.##", Inv);
        Func<double, string> yLabel = logY ? Pow10 : decimals is { } d ? v => v.ToString("F" + Math.Clamp(d, 0, 6), Inv) : v => v.ToString("0.###", Inv);
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
        Text(svg, (area.Left + area.Right) / 2, height - 10, Str(xaxis?["title"]?["text"]) ?? "", "middle", "#373d3f", 12);
        svg.Append(Inv, $"<g transform=\"translate(14 {F((area.Top + area.Bottom) / 2)}) rotate(-90)\">");
        Text(svg, 0, 0, Str(yaxis?["title"]?["text"]) ?? "", "middle", "#373d3f", 12);
        svg.Append("</g>");

        var markers = options["markers"];
        var stroke = options["stroke"];
        for (var i = 0; i < series.Count; i++)
        {
            var color = Color(At(options["colors"], i));
            var width = Num(At(stroke?["width"], i)) ?? 2;
            var dash = Num(At(stroke?["dashArray"], i)) ?? 0;
            var size = Num(At(markers?["size"], i)) ?? 0;
            var scatter = Str(series[i]?["type"]) == "scatter" || width <= 0;
            foreach (var run in runs[i])
            {
                if (!scatter && run.Count > 1)
                {
                    svg.Append(Inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{F(width)}\"")
                        .Append(dash > 0 ? $" stroke-dasharray=\"{F(dash)}\"" : "").Append(" points=\"");
                    foreach (var p in run) svg.Append(F(X(p.X))).Append(',').Append(F(Y(p.Y))).Append(' ');
                    svg.Append("\"/>");
                }
                var r = scatter ? Math.Max(size, 3) / 1.6 : size / 1.6;
                if (r <= 0) continue;
                // One path for a run's markers: thousands of points stay a handful of elements.
                var shape = Str(At(markers?["shape"], i)) ?? "circle";
                svg.Append(Inv, $"<path class=\"markers\" fill=\"{color}\" stroke=\"#fff\" stroke-width=\"0.8\" d=\"");
                foreach (var p in run) Marker(svg, shape, X(p.X), Y(p.Y), r);
                svg.Append("\"/>");
            }
        }
        svg.Append(Inv, $"<rect x=\"{area.Left}\" y=\"{area.Top}\" width=\"{area.Right - area.Left}\" height=\"{area.Bottom - area.Top}\" ")
            .Append("fill=\"none\" stroke=\"#c9ced6\"/>");
        Legend(svg, series, options, area.Right + 16, area.Top, height);
    }

    private static void Legend(StringBuilder svg, JsonArray series, JsonNode options, double left, double top, int height)
    {
        var y = top + 8;
        for (var i = 0; i < series.Count && y < height - 8; i++, y += 17)
        {
            svg.Append(Inv, $"<circle cx=\"{F(left + 5)}\" cy=\"{F(y - 4)}\" r=\"5\" fill=\"{Color(At(options["colors"], i))}\"/>");
            var name = Str(series[i]?["name"]) ?? "";
            Text(svg, left + 15, y, name.Length > 34 ? name[..33] + "…" : name, "start", "#373d3f", 11);
        }
    }

    private static void Heatmap(StringBuilder svg, JsonNode options, JsonArray series, int height)
    {
        var ranges = (options["plotOptions"]?["heatmap"]?["colorScale"]?["ranges"] as JsonArray ?? [])
            .Select(r => (From: Num(r?["from"]) ?? double.NaN, To: Num(r?["to"]) ?? double.NaN, Color: Color(r?["color"]), Name: Str(r?["name"]) ?? ""))
            .ToList();
        var labels = options["ledger"]?["cellLabels"] as JsonObject;
        var columns = (series[0]?["data"] as JsonArray ?? []).Select(p => p?["x"]?.ToString() ?? "").ToList();
        var area = new Area(78, 8, Width - 10, height - 62);
        double cellW = (area.Right - area.Left) / Math.Max(1, columns.Count), cellH = (area.Bottom - area.Top) / series.Count;
        for (var row = 0; row < series.Count; row++)
        {
            // The first series at the bottom, as ApexCharts draws a heatmap.
            var top = area.Bottom - (row + 1) * cellH;
            Text(svg, area.Left - 6, top + cellH / 2 + 4, Str(series[row]?["name"]) ?? "", "end", "#373d3f", 11);
            var data = series[row]?["data"] as JsonArray ?? [];
            for (var col = 0; col < data.Count && col < columns.Count; col++)
            {
                var value = Num(data[col]?["y"]) ?? double.NaN;
                var fill = ranges.FirstOrDefault(r => value >= r.From && value <= r.To).Color ?? "#e4e7ec";
                var left = area.Left + col * cellW;
                svg.Append(Inv, $"<rect x=\"{F(left)}\" y=\"{F(top)}\" width=\"{F(cellW)}\" height=\"{F(cellH)}\" fill=\"{fill}\" stroke=\"#fff\"/>");
                var key = value.ToString("0.######", Inv);
                var label = labels?[key] is { } named ? Str(named) ?? "" : double.IsFinite(value) ? value.ToString("F3", Inv) : "";
                Text(svg, left + cellW / 2, top + cellH / 2 + 3.5, label, "middle", Dark(fill) ? "#fff" : "#1d2430", 10);
            }
        }
        for (var col = 0; col < columns.Count; col++) Text(svg, area.Left + (col + 0.5) * cellW, area.Bottom + 14, columns[col], "middle", "#373d3f", 10);
        Text(svg, (area.Left + area.Right) / 2, area.Bottom + 30, Str(First(options["xaxis"])?["title"]?["text"]) ?? "", "middle", "#373d3f", 12);
        var x = area.Left;
        foreach (var range in ranges.Where(r => r.Name.Length > 0))
        {
            svg.Append(Inv, $"<rect x=\"{F(x)}\" y=\"{height - 20}\" width=\"10\" height=\"10\" fill=\"{range.Color}\"/>");
            Text(svg, x + 14, height - 11, range.Name, "start", "#373d3f", 10);
            x += 20 + 6 * range.Name.Length;
        }
    }

    private static void Marker(StringBuilder svg, string shape, double x, double y, double r)
    {
        var (d, h) = (F(2 * r), F(r));
        switch (shape)
        {
            case "square":
                svg.Append(Inv, $"M{F(x - r)},{F(y - r)}h{d}v{d}h-{d}z");
                break;
            case "diamond":
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

    /// <summary>A series' points split at a null y (the gap that ends an interval bar).</summary>
    private static List<List<(double X, double Y)>> Runs(JsonArray? data)
    {
        var runs = new List<List<(double X, double Y)>> { new() };
        foreach (var p in data ?? [])
        {
            if (Num(p?["y"]) is not { } y)
            {
                if (runs[^1].Count > 0) runs.Add([]);
                continue;
            }
            if (Num(p?["x"]) is { } x && double.IsFinite(y)) runs[^1].Add((x, y));
        }
        return runs;
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

    /// <summary>A log10 axis' label, as the browser's charts write it (ledger-chart.js): 10^v, a power of two within 1% snapped to it.</summary>
    public static string Pow10(double v)
    {
        var x = Math.Pow(10, v);
        var p2 = Math.Pow(2, Math.Round(Math.Log2(x)));
        if (Math.Abs(x - p2) / p2 < 0.01) x = p2;
        return x >= 100 ? Math.Round(x).ToString(Inv) : double.Parse(x.ToString("G2", Inv), Inv).ToString(Inv);
    }

    /// <summary>A colour as ApexCharts takes it; anything but a plain #hex colour is drawn grey (it is written into an attribute).</summary>
    private static string Color(JsonNode? node) =>
        Str(node) is { Length: 4 or 7 } c && c[0] == '#' && c.Skip(1).All(Uri.IsHexDigit) ? c : "#98a2b3";

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

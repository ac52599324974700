using System.Globalization;
using System.Text.Json.Nodes;
using ScottPlot;
using ScottPlot.TickGenerators;
using static ScalingLedger.Web.Components.Charts.ChartJson;

namespace ScalingLedger.Cli.Reports;

/// <summary>
/// Renders the ApexCharts option graphs that StudyCharts builds for the site into static PNG/SVG files,
/// so a report can carry the same figures without a browser.
/// </summary>
public static class ChartImage
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Fallback colours for series whose options carry none (or one we cannot read).</summary>
    private static readonly string[] Palette = ["#2e5bba", "#d9480f", "#2f9e44", "#ae3ec9", "#f08c00", "#1098ad", "#e03131", "#495057"];

    /// <summary>Draws one ApexCharts option graph (as our site's StudyCharts build them, serialized to JSON) into a ScottPlot Plot.</summary>
    public static Plot Draw(JsonNode options, string title)
    {
        var plt = new Plot();
        plt.Font.Set("DejaVu Sans");
        plt.Title(Clean(title));
        plt.XLabel(Clean(Str(First(options["xaxis"])?["title"]?["text"]) ?? ""));
        plt.YLabel(Clean(Str(First(options["yaxis"])?["title"]?["text"]) ?? ""));
        var ledger = options["ledger"];
        var series = options["series"] as JsonArray;
        string? empty = Str(ledger?["empty"]);
        if (empty is not null || series is null || series.Count == 0)
            DrawMessage(plt, empty ?? Str(options["noData"]?["text"]) ?? "No data");
        else if (Str(options["chart"]?["type"]) == "heatmap")
            DrawHeatmap(plt, options, series);
        else
            DrawMixed(plt, options, series);
        return plt;
    }

    /// <summary>Saves it as PNG and SVG: returns the two paths (dir/name.png, dir/name.svg).</summary>
    public static (string Png, string Svg) Save(JsonNode options, string title, string directory, string name, int width = 1000, int height = 620)
    {
        // The name becomes a file name; refuse anything that would escape the directory.
        if (string.IsNullOrWhiteSpace(name) || name != Path.GetFileName(name) || name is "." or "..")
            throw new ArgumentException($"Not a plain file name: '{name}'", nameof(name));
        Directory.CreateDirectory(directory);
        var plt = Draw(options, title);
        string png = Path.Combine(directory, name + ".png"), svg = Path.Combine(directory, name + ".svg");
        plt.SavePng(png, width, height);
        plt.SaveSvg(svg, width, height);
        return (png, svg);
    }

    /// <summary>An empty frame with a centred message, so "nothing yet" still yields a figure instead of a missing file.</summary>
    private static void DrawMessage(Plot plt, string message)
    {
        var text = plt.Add.Text(Clean(message), 0, 0);
        text.Alignment = Alignment.MiddleCenter;
        text.LabelFontSize = 18;
        text.LabelFontColor = Color.FromHex("#667085");
        plt.Axes.SetLimits(-1, 1, -1, 1);
        plt.Axes.Bottom.TickGenerator = new NumericManual();
        plt.Axes.Left.TickGenerator = new NumericManual();
        plt.HideGrid();
    }

    /// <summary>Line/scatter charts: points, fitted lines, and interval bars (runs of points separated by y = null).</summary>
    private static void DrawMixed(Plot plt, JsonNode options, JsonArray series)
    {
        var ledger = options["ledger"];
        bool logX = Bool(ledger?["logX"]), logY = Bool(ledger?["logY"]);
        string chartType = Str(options["chart"]?["type"]) ?? "line";
        JsonNode? markers = options["markers"], stroke = options["stroke"];
        bool anyLegend = false;
        List<double> allX = [], allY = [];
        for (int i = 0; i < series.Count; i++)
        {
            if (series[i] is not JsonNode s) continue;
            string name = Clean(Str(s["name"]) ?? "");
            var color = ColorAt(options["colors"], i);
            double width = Num(At(stroke?["width"], i)) ?? 2;
            bool dashed = (Num(At(stroke?["dashArray"], i)) ?? 0) > 0;
            float markerSize = (float)(2 * (Num(At(markers?["size"], i)) ?? 0)); // Apex sizes are radii, ScottPlot's diameters.
            var shape = Shape(Str(At(markers?["shape"], i)));
            bool pointsOnly = (Str(s["type"]) ?? chartType) == "scatter" || width <= 0;
            var runs = Runs(s["data"] as JsonArray, out bool hasGaps);
            bool first = true;
            foreach (var (xs, ys) in runs)
            {
                if (xs.Count == 0) continue;
                allX.AddRange(xs);
                allY.AddRange(ys);
                var sc = plt.Add.Scatter(xs.ToArray(), ys.ToArray(), color);
                bool asPoints = pointsOnly || xs.Count == 1; // a lone point between nulls has no segment to draw
                sc.LineWidth = asPoints ? 0 : (float)width;
                sc.MarkerSize = asPoints ? (markerSize > 0 ? markerSize : 8) : hasGaps ? 0 : markerSize;
                sc.MarkerShape = shape;
                if (dashed && !asPoints) sc.LinePattern = LinePattern.Dashed;
                // Interval bars are many segments but one series: only the first carries the legend entry.
                if (first && name.Length > 0) { sc.LegendText = name; anyLegend = true; }
                first = false;
            }
        }

        if (allX.Count == 0) { DrawMessage(plt, Str(options["noData"]?["text"]) ?? "No data"); return; }
        plt.Axes.AutoScale();
        ApplyAxis(plt, plt.Axes.Bottom, First(options["xaxis"]), logX, null, allX, horizontal: true);
        ApplyAxis(plt, plt.Axes.Left, First(options["yaxis"]), logY, (int?)Num(ledger?["yDecimals"]), allY, horizontal: false);
        if (anyLegend) plt.ShowLegend(Edge.Right);
    }

    /// <summary>Splits a series' points at y = null; a series without nulls is one run.</summary>
    private static List<(List<double> Xs, List<double> Ys)> Runs(JsonArray? data, out bool hasGaps)
    {
        var runs = new List<(List<double>, List<double>)> { (new(), new()) };
        hasGaps = false;
        foreach (var p in data ?? [])
        {
            JsonNode? xn = p is JsonArray a ? At(a, 0) : p?["x"];
            JsonNode? yn = p is JsonArray b ? At(b, 1) : p?["y"];
            double? x = Num(xn), y = Num(yn);
            if (y is null) { hasGaps = true; runs.Add((new(), new())); continue; }
            if (x is null) continue;
            runs[^1].Item1.Add(x.Value);
            runs[^1].Item2.Add(y.Value);
        }
        return runs;
    }

    /// <summary>
    /// Applies Apex min/max/tickAmount (tickAmount alone spreads over the data, as Apex does) and, for log axes,
    /// labels ticks with 10^value since the data are log10.
    /// </summary>
    private static void ApplyAxis(Plot plt, IAxis axis, JsonNode? cfg, bool log, int? decimals, List<double> data, bool horizontal)
    {
        double? min = Num(cfg?["min"]), max = Num(cfg?["max"]);
        int ticks = (int)(Num(cfg?["tickAmount"]) ?? 0);
        if (ticks > 0 && data.Max() > data.Min()) (min, max) = (min ?? data.Min(), max ?? data.Max());
        Func<double, string> label = log ? Pow10
            : decimals is int d ? v => v.ToString("F" + Math.Clamp(d, 0, 10), Inv) : v => v.ToString("0.####", Inv);

        if (min is double lo && max is double hi && hi > lo)
        {
            double pad = (hi - lo) * 0.02; // keeps markers sitting on the limits from being cut in half
            if (horizontal) plt.Axes.SetLimitsX(lo - pad, hi + pad); else plt.Axes.SetLimitsY(lo - pad, hi + pad);
            if (ticks > 0)
            {
                var manual = new NumericManual();
                for (int i = 0; i <= ticks; i++) manual.AddMajor(lo + i * (hi - lo) / ticks, label(lo + i * (hi - lo) / ticks));
                axis.TickGenerator = manual;
                return;
            }
        }
        else if (min is null != max is null) // one bound given: the other stays where autoscale put it
        {
            if (horizontal) plt.Axes.SetLimits(left: min, right: max); else plt.Axes.SetLimits(bottom: min, top: max);
        }
        var lim = plt.Axes.GetLimits();
        axis.TickGenerator = (log ? LogTicks(horizontal ? lim.Left : lim.Bottom, horizontal ? lim.Right : lim.Top) : null)
            ?? new NumericAutomatic { LabelFormatter = label };
    }

    /// <summary>
    /// Ticks at 1 (or 1-2-5, or 1..9 on short ranges) times powers of ten, so a log axis reads 1e15, 1e16 rather than 3.16e15;
    /// null when too few or too many fit.
    /// </summary>
    private static ITickGenerator? LogTicks(double lo, double hi)
    {
        var ticks = new NumericManual();
        int[] majors = hi - lo >= 3 ? [1] : hi - lo >= 1 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
        int count = 0;
        for (int d = (int)Math.Floor(lo); d <= (int)Math.Ceiling(hi); d++)
            for (int m = 1; m <= 9; m++)
            {
                double v = d + Math.Log10(m);
                if (v < lo || v > hi) continue;
                if (majors.Contains(m)) { ticks.AddMajor(v, Pow10(v)); count++; }
                else ticks.AddMinor(v);
            }
        return count >= 2 && count <= 15 ? ticks : null;
    }

    /// <summary>Heatmap: one row per series, one column per x category, each cell coloured by the Apex colour-scale range holding its value.</summary>
    private static void DrawHeatmap(Plot plt, JsonNode options, JsonArray series)
    {
        var ranges = (options["plotOptions"]?["heatmap"]?["colorScale"]?["ranges"] as JsonArray ?? [])
            .Select(r => (From: Num(r?["from"]) ?? double.NaN, To: Num(r?["to"]) ?? double.NaN,
                Color: ColorOrNull(Str(r?["color"])) ?? Colors.Gray, Name: Clean(Str(r?["name"]) ?? "")))
            .ToList();
        var cellLabels = options["ledger"]?["cellLabels"] as JsonObject;
        int decimals = Math.Clamp((int)(Num(options["ledger"]?["yDecimals"]) ?? 3), 0, 10);

        var columns = new List<string>();
        foreach (var s in series)
            foreach (var p in s?["data"] as JsonArray ?? [])
                if (Category(p?["x"]) is string x && !columns.Contains(x)) columns.Add(x);

        var rowTicks = new NumericManual();
        for (int row = 0; row < series.Count; row++) // first series at the bottom, as Apex draws it
        {
            rowTicks.AddMajor(row, Clean(Str(series[row]?["name"]) ?? ""));
            foreach (var p in series[row]?["data"] as JsonArray ?? [])
            {
                if (Category(p?["x"]) is not string x || Num(p?["y"]) is not double y) continue;
                int col = columns.IndexOf(x);
                int match = ranges.FindIndex(r => y >= r.From && y <= r.To);
                var fill = match >= 0 ? ranges[match].Color : Color.FromHex("#d0d5dd");
                var rect = plt.Add.Rectangle(col - 0.5, col + 0.5, row - 0.5, row + 0.5);
                rect.FillColor = fill;
                rect.LineColor = Colors.White;
                rect.LineWidth = 1;
                // As the site: a value with a name in cellLabels (the negative status codes) shows the name.
                string text = Str(cellLabels?[y.ToString(Inv)]) ?? y.ToString("F" + decimals, Inv);
                var label = plt.Add.Text(Clean(text), col, row);
                label.Alignment = Alignment.MiddleCenter;
                label.LabelFontSize = 12;
                label.LabelFontColor = Luminance(fill) < 0.5 ? Colors.White : Colors.Black;
            }
        }

        var colTicks = new NumericManual();
        for (int c = 0; c < columns.Count; c++) colTicks.AddMajor(c, Clean(columns[c]));
        plt.Axes.Bottom.TickGenerator = colTicks;
        plt.Axes.Left.TickGenerator = rowTicks;
        plt.Axes.SetLimits(-0.5, Math.Max(columns.Count, 1) - 0.5, -0.5, series.Count - 0.5);
        plt.HideGrid();

        foreach (var r in ranges.Where(r => r.Name.Length > 0))
            plt.Legend.ManualItems.Add(new LegendItem { LabelText = r.Name, FillColor = r.Color });
        if (plt.Legend.ManualItems.Count > 0) plt.ShowLegend(Edge.Bottom);
    }

    private static double Luminance(Color c) => (0.299 * c.R + 0.587 * c.G + 0.114 * c.B) / 255;

    private static MarkerShape Shape(string? apex) => apex switch
    {
        "square" => MarkerShape.FilledSquare,
        "diamond" => MarkerShape.FilledDiamond,
        _ => MarkerShape.FilledCircle,
    };

    private static Color ColorAt(JsonNode? colors, int i) => ColorOrNull(Str(At(colors, i))) ?? Color.FromHex(Palette[i % Palette.Length]);

    /// <summary>Only #rrggbb / #rrggbbaa are accepted; anything else (rgb(), names) falls back to the palette rather than throwing.</summary>
    private static Color? ColorOrNull(string? hex) =>
        hex is { Length: 7 or 9 } && hex[0] == '#' && hex.Skip(1).All(Uri.IsHexDigit) ? Color.FromHex(hex) : null;

    /// <summary>
    /// Labels a log10 tick as the site's ledger-chart.js does: snapped to a power of two within 1% (widths: 1023.3 reads 1024),
    /// whole from 100, else 2 significant digits; beyond 1e7 or below 1e-4 as 1e15, 3.2e-5 (JS would print every digit).
    /// </summary>
    private static string Pow10(double v)
    {
        double x = Math.Pow(10, v), p2 = Math.Pow(2, Math.Round(Math.Log2(x)));
        if (Math.Abs(x - p2) / p2 < 0.01) x = p2;
        if (x >= 1e7 || x < 1e-4) return x.ToString("0.#e0", Inv);
        if (x >= 100) return Math.Round(x).ToString(Inv);
        double step = Math.Pow(10, Math.Floor(Math.Log10(x)) - 1);
        return (Math.Round(x / step) * step).ToString("0.#####", Inv);
    }

    /// <summary>Heatmap x values are strings in our charts, but a bare number is the same category.</summary>
    private static string? Category(JsonNode? x) => Str(x) ?? Num(x)?.ToString(Inv);

    /// <summary>Control characters are not valid XML in the SVG; markup characters (&lt; &amp;) are escaped by the SVG writer itself.</summary>
    private static string Clean(string s) => new(s.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
}

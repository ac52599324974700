using System.Globalization;
using ScalingLedger.Domain.Charts;
using ScottPlot;
using ScottPlot.TickGenerators;
using Chart = ScalingLedger.Domain.Charts.Chart;
using MarkerShape = ScalingLedger.Domain.Charts.MarkerShape;

namespace ScalingLedger.Cli.Reports;

/// <summary>
/// Draws the charts the site shows (<see cref="StudyCharts"/>) into static PNG/SVG files with ScottPlot, so a report can carry
/// the same figures without a browser.
/// </summary>
public static class ChartImage
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Draws one chart into a ScottPlot Plot.</summary>
    public static Plot Draw(Chart chart, string title)
    {
        var plt = new Plot();
        plt.Font.Set("DejaVu Sans");
        plt.Title(Clean(title));
        var (x, y) = chart switch
        {
            PlotChart p => (p.X.Title, p.Y.Title),
            HeatmapChart h => (h.XTitle, h.YTitle),
            _ => ("", ""),
        };
        plt.XLabel(Clean(x));
        plt.YLabel(Clean(y));
        if (chart.IsEmpty) DrawMessage(plt, chart.NoData);
        else if (chart is HeatmapChart heatmap) DrawHeatmap(plt, heatmap);
        else if (chart is PlotChart plot) DrawPlot(plt, plot);
        return plt;
    }

    /// <summary>Saves it as PNG and SVG: returns the two paths (dir/name.png, dir/name.svg).</summary>
    public static (string Png, string Svg) Save(Chart chart, string title, string directory, string name, int width = 1000, int height = 620)
    {
        // The name becomes a file name; refuse anything that would escape the directory.
        if (string.IsNullOrWhiteSpace(name) || name != Path.GetFileName(name) || name is "." or "..")
            throw new ArgumentException($"Not a plain file name: '{name}'", nameof(name));
        Directory.CreateDirectory(directory);
        var plt = Draw(chart, title);
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

    /// <summary>Points, lines and interval bars (each bar a run of the series' points).</summary>
    private static void DrawPlot(Plot plt, PlotChart chart)
    {
        bool anyLegend = false;
        List<double> allX = [], allY = [];
        foreach (var series in chart.Series)
        {
            string name = Clean(series.Name);
            var color = ColorOrNull(series.Color) ?? Colors.Gray;
            float markerSize = 2 * series.MarkerSize; // the chart's sizes are radii, ScottPlot's diameters.
            bool pointsOnly = series.Kind == SeriesKind.Points || series.StrokeWidth <= 0;
            bool first = true;
            foreach (var run in series.Runs())
            {
                double[] xs = run.Select(p => p.X).ToArray(), ys = run.Select(p => p.Y).ToArray();
                allX.AddRange(xs);
                allY.AddRange(ys);
                var sc = plt.Add.Scatter(xs, ys, color);
                bool asPoints = pointsOnly || xs.Length == 1; // a lone point has no segment to draw
                sc.LineWidth = asPoints ? 0 : series.StrokeWidth;
                sc.MarkerSize = asPoints ? (markerSize > 0 ? markerSize : 8) : series.Kind == SeriesKind.Intervals ? 0 : markerSize;
                sc.MarkerShape = Shape(series.Shape);
                if (series.Dash > 0 && !asPoints) sc.LinePattern = LinePattern.Dashed;
                // Interval bars are many segments but one series: only the first carries the legend entry.
                if (first && name.Length > 0) { sc.LegendText = name; anyLegend = true; }
                first = false;
            }
        }

        plt.Axes.AutoScale();
        ApplyAxis(plt, plt.Axes.Bottom, chart.X, allX, horizontal: true);
        ApplyAxis(plt, plt.Axes.Left, chart.Y, allY, horizontal: false);
        if (anyLegend) plt.ShowLegend(Edge.Right);
    }

    /// <summary>
    /// Applies the axis' span and tick count (a count alone spreads over the data, as the site's charts do) and, for log axes,
    /// labels ticks with 10^value since the data are log10.
    /// </summary>
    private static void ApplyAxis(Plot plt, IAxis axis, ChartAxis cfg, List<double> data, bool horizontal)
    {
        var log = cfg.Log;
        double? min = cfg.Min, max = cfg.Max;
        int ticks = cfg.Ticks ?? 0;
        if (ticks > 0 && data.Max() > data.Min()) (min, max) = (min ?? data.Min(), max ?? data.Max());
        // The y axis' decimals only: ticks on x are spread evenly, and a tick at 2.5 read as 3 would lie.
        Func<double, string> label = log ? ChartStyle.Pow10
            : !horizontal && cfg.Decimals is int d ? v => v.ToString("F" + Math.Clamp(d, 0, 10), Inv) : v => v.ToString("0.####", Inv);

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
                if (majors.Contains(m)) { ticks.AddMajor(v, ChartStyle.Pow10(v)); count++; }
                else ticks.AddMinor(v);
            }
        return count >= 2 && count <= 15 ? ticks : null;
    }

    /// <summary>Heatmap: one row per row of the chart, one column per category, each cell coloured by the range holding its value.</summary>
    private static void DrawHeatmap(Plot plt, HeatmapChart chart)
    {
        var rowTicks = new NumericManual();
        for (int row = 0; row < chart.Rows.Count; row++) // first row at the bottom, as the site draws it
        {
            rowTicks.AddMajor(row, Clean(chart.Rows[row].Name));
            var values = chart.Rows[row].Values;
            for (int col = 0; col < values.Count && col < chart.Columns.Count; col++)
            {
                var y = values[col];
                var fill = chart.Ranges.FirstOrDefault(r => y >= r.From && y <= r.To) is { } range
                    ? ColorOrNull(range.Color) ?? Colors.Gray : Color.FromHex("#d0d5dd");
                var rect = plt.Add.Rectangle(col - 0.5, col + 0.5, row - 0.5, row + 0.5);
                rect.FillColor = fill;
                rect.LineColor = Colors.White;
                rect.LineWidth = 1;
                // As the site: a value with a name (the negative status codes) shows the name.
                var label = plt.Add.Text(Clean(chart.Label(y)), col, row);
                label.Alignment = Alignment.MiddleCenter;
                label.LabelFontSize = 12;
                label.LabelFontColor = Luminance(fill) < 0.5 ? Colors.White : Colors.Black;
            }
        }

        var colTicks = new NumericManual();
        for (int c = 0; c < chart.Columns.Count; c++) colTicks.AddMajor(c, Clean(chart.Columns[c]));
        plt.Axes.Bottom.TickGenerator = colTicks;
        plt.Axes.Left.TickGenerator = rowTicks;
        plt.Axes.SetLimits(-0.5, Math.Max(chart.Columns.Count, 1) - 0.5, -0.5, chart.Rows.Count - 0.5);
        plt.HideGrid();

        foreach (var r in chart.Ranges.Where(r => r.Name.Length > 0))
            plt.Legend.ManualItems.Add(new LegendItem { LabelText = Clean(r.Name), FillColor = ColorOrNull(r.Color) ?? Colors.Gray });
        if (plt.Legend.ManualItems.Count > 0) plt.ShowLegend(Edge.Bottom);
    }

    private static double Luminance(Color c) => (0.299 * c.R + 0.587 * c.G + 0.114 * c.B) / 255;

    private static ScottPlot.MarkerShape Shape(MarkerShape shape) => shape switch
    {
        MarkerShape.Square => ScottPlot.MarkerShape.FilledSquare,
        MarkerShape.Diamond => ScottPlot.MarkerShape.FilledDiamond,
        _ => ScottPlot.MarkerShape.FilledCircle,
    };

    /// <summary>Only #rrggbb / #rrggbbaa are accepted; anything else (rgb(), names) is drawn grey rather than throwing.</summary>
    private static Color? ColorOrNull(string? hex) =>
        hex is { Length: 7 or 9 } && hex[0] == '#' && hex.Skip(1).All(Uri.IsHexDigit) ? Color.FromHex(hex) : null;

    /// <summary>Control characters are not valid XML in the SVG; markup characters (&lt; &amp;) are escaped by the SVG writer itself.</summary>
    private static string Clean(string s) => new(s.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
}

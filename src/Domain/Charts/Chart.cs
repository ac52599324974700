using System.Globalization;

namespace ScalingLedger.Domain.Charts;

/// <summary>
/// A figure as the ledger means it: what is drawn, in which colour and on which axes, and nothing of how. Built from read
/// models by <see cref="StudyCharts"/>, <see cref="CompareCharts"/> and <see cref="TrialCharts"/>; drawn by three
/// renderers that read it as it is, never parse it back: the site's ApexCharts options (Web's <c>ApexOptions</c>), the
/// site's first paint as SVG (Web's <c>ChartSvg</c>) and the command line's report images (Cli's <c>ChartImage</c>).
/// Every coordinate is finite when it gets here (<see cref="SeriesSet"/> drops the rest); a name is plain text, encoded
/// by each renderer where it is shown.
/// </summary>
public abstract record Chart(string NoData, int Height)
{
    /// <summary>Whether there is nothing to draw: a renderer shows <see cref="NoData"/> in its place.</summary>
    public abstract bool IsEmpty { get; }
}

/// <summary>Points, lines and interval bars over two numeric axes (a log axis holds log10 values).</summary>
public sealed record PlotChart(IReadOnlyList<ChartSeries> Series, ChartAxis X, ChartAxis Y, string NoData, int Height = 380) : Chart(NoData, Height)
{
    public override bool IsEmpty => !Series.Any(s => s.Points.Any(p => p.Y is not null));
}

/// <summary>
/// Cells coloured by the range holding their value: one row per <see cref="HeatmapRow"/> (the first at the bottom), one column
/// per category. A value with a name in <see cref="CellLabels"/> (a status, not a measurement) shows the name.
/// </summary>
public sealed record HeatmapChart(IReadOnlyList<string> Columns, IReadOnlyList<HeatmapRow> Rows, IReadOnlyList<ColorRange> Ranges,
    IReadOnlyDictionary<double, string> CellLabels, string XTitle, string YTitle, string NoData, int Height, int Decimals = 3) : Chart(NoData, Height)
{
    public override bool IsEmpty => Rows.Count == 0;

    /// <summary>A cell's words: its status's name, or its value to <see cref="Decimals"/> places.</summary>
    public string Label(double value) =>
        CellLabels.TryGetValue(value, out var name) ? name
        : double.IsFinite(value) ? value.ToString("F" + Math.Clamp(Decimals, 0, 10), CultureInfo.InvariantCulture) : "";
}

public sealed record HeatmapRow(string Name, IReadOnlyList<double> Values);

/// <summary>The colour of the values in [<see cref="From"/>, <see cref="To"/>], named in the legend.</summary>
public sealed record ColorRange(double From, double To, string Color, string Name);

/// <summary>What a series is: markers alone, a line (with markers if <see cref="ChartSeries.MarkerSize"/> is set), or vertical interval bars.</summary>
public enum SeriesKind { Points, Line, Intervals }

public enum MarkerShape { Circle, Square, Diamond }

/// <summary>
/// One series. Sizes are in the site's pixels (a marker's size is its radius, as ApexCharts takes it); a dash above zero
/// draws the line dashed. Intervals are runs of points, each bar ended by a point without a value.
/// </summary>
public sealed record ChartSeries(string Name, SeriesKind Kind, string Color, IReadOnlyList<ChartPoint> Points,
    int MarkerSize = 0, MarkerShape Shape = MarkerShape.Circle, int StrokeWidth = 0, int Dash = 0)
{
    /// <summary>The series' points split where a point has no value (the gap that ends an interval bar); empty runs left out.</summary>
    public IEnumerable<IReadOnlyList<(double X, double Y)>> Runs()
    {
        var run = new List<(double X, double Y)>();
        foreach (var p in Points)
        {
            if (p.Y is { } y) run.Add((p.X, y));
            else if (run.Count > 0) { yield return run; run = []; }
        }
        if (run.Count > 0) yield return run;
    }
}

/// <summary>A point; no <see cref="Y"/> ends an interval bar.</summary>
public readonly record struct ChartPoint(double X, double? Y);

/// <summary>
/// A numeric axis. <see cref="Log"/>: its values are log10 of what it shows, labelled 10^v (<see cref="ChartStyle.Pow10"/>).
/// <see cref="Min"/>, <see cref="Max"/> and <see cref="Ticks"/> fix its span and tick count where given; <see cref="Decimals"/>
/// fixes its labels' places; <see cref="Name"/> is what one value is called in a tooltip ("width 128").
/// </summary>
public sealed record ChartAxis(string Title, bool Log = false, double? Min = null, double? Max = null, int? Ticks = null, int? Decimals = null,
    string? Name = null);

/// <summary>The palette every chart and page colours its series from, and how a log axis is labelled: one home for both.</summary>
public static class ChartStyle
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly string[] Palette =
        ["#2e5bba", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#0b7285", "#e67700", "#5c940d", "#364fc7", "#a61e4d", "#495057", "#1098ad"];

    /// <summary>The palette's colour for the <paramref name="i"/>-th series (it cycles).</summary>
    public static string Color(int i) => Palette[i % Palette.Length];

    /// <summary>
    /// A log10 value as its axis reads it, as the site's ledger-chart.js writes it: a power of two within 1% snapped to it
    /// (widths: 1023.3 reads 1024), whole from 100, else 2 significant digits; beyond 1e7 or below 1e-4 as 1e15, 3.2e-5.
    /// </summary>
    public static string Pow10(double v)
    {
        double x = Math.Pow(10, v), p2 = Math.Pow(2, Math.Round(Math.Log2(x)));
        if (Math.Abs(x - p2) / p2 < 0.01) x = p2;
        if (x >= 1e7 || x < 1e-4) return x.ToString("0.#e0", Inv);
        if (x >= 100) return Math.Round(x).ToString(Inv);
        var step = Math.Pow(10, Math.Floor(Math.Log10(x)) - 1);
        return (Math.Round(x / step) * step).ToString("0.#####", Inv);
    }
}

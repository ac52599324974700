namespace ScalingLedger.Domain.Charts;

/// <summary>
/// Collects the series of one <see cref="PlotChart"/>. Every value is finite when it leaves: points without a finite value
/// are dropped, and so is an interval with an end that is not finite.
/// </summary>
internal sealed class SeriesSet
{
    private readonly List<ChartSeries> series = [];

    public IReadOnlyList<ChartSeries> Series => series;

    public void Points(string name, string color, IEnumerable<(double X, double Y)> points, int size = 6, MarkerShape shape = MarkerShape.Circle) =>
        series.Add(new ChartSeries(name, SeriesKind.Points, color, Finite(points), size, shape));

    public void Line(string name, string color, IEnumerable<(double X, double Y)> points, int width = 2, int dash = 0, int markers = 0) =>
        series.Add(new ChartSeries(name, SeriesKind.Line, color, Finite(points), markers, MarkerShape.Circle, width, dash));

    /// <summary>95% intervals as vertical bars, one per x, in one series (a point without a value ends each bar); none, no series.</summary>
    public void Intervals(string name, string color, IEnumerable<(double X, double Lower, double Upper)> intervals)
    {
        var data = new List<ChartPoint>();
        foreach (var (x, lower, upper) in intervals)
        {
            if (!(double.IsFinite(x) && double.IsFinite(lower) && double.IsFinite(upper))) continue;
            data.AddRange([new ChartPoint(x, lower), new ChartPoint(x, upper), new ChartPoint(x, null)]);
        }
        if (data.Count > 0) series.Add(new ChartSeries(name, SeriesKind.Intervals, color, data, 0, MarkerShape.Circle, 3));
    }

    /// <summary>The chart of these series; with no point at all, none (a renderer then says <paramref name="noData"/>).</summary>
    public PlotChart Chart(ChartAxis x, ChartAxis y, string noData, int height = 380)
    {
        var chart = new PlotChart(series, x, y, noData, height);
        return chart.IsEmpty ? chart with { Series = [] } : chart;
    }

    private static List<ChartPoint> Finite(IEnumerable<(double X, double Y)> points) =>
        points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).Select(p => new ChartPoint(p.X, p.Y)).ToList();
}

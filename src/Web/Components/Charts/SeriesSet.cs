namespace ScalingLedger.Web.Components.Charts;

/// <summary>
/// The series of one mixed ApexCharts chart with their per-series styles (ApexCharts takes styles as parallel arrays).
/// Every value is finite when it gets here: points without a finite value are dropped, an interval's gap is a null.
/// </summary>
internal sealed class SeriesSet
{
    private readonly List<object> series = [];
    public List<string> Colors { get; } = [];
    public List<int> MarkerSizes { get; } = [];
    public List<string> Shapes { get; } = [];
    public List<int> StrokeWidths { get; } = [];
    public List<int> Dashes { get; } = [];

    public IReadOnlyList<object> Series => series;

    /// <summary>Whether any series has a point (ApexCharts draws an empty numeric chart with infinite coordinates: give it none).</summary>
    public bool HasPoints { get; private set; }
    public int Count => series.Count;

    public void Points(string name, string color, IEnumerable<(double X, double Y)> points, int size = 6, string shape = "circle") =>
        Add(name, "scatter", color, Finite(points), size, shape, 0, 0);

    public void Line(string name, string color, IEnumerable<(double X, double Y)> points, int width = 2, int dash = 0, int markers = 0) =>
        Add(name, "line", color, Finite(points), markers, "circle", width, dash);

    /// <summary>95% intervals as vertical bars, one per x, in one series (nulls separate the bars).</summary>
    public void Intervals(string name, string color, IEnumerable<(double X, double Lower, double Upper)> intervals)
    {
        var data = new List<object>();
        foreach (var (x, lower, upper) in intervals)
        {
            if (!(double.IsFinite(x) && double.IsFinite(lower) && double.IsFinite(upper))) continue;
            // Dictionaries, not anonymous objects: the serializer leaves null properties out but keeps a dictionary's null,
            // and the gap that ends a bar needs its explicit null y.
            data.Add(new Dictionary<string, double?> { ["x"] = Round(x), ["y"] = Round(lower) });
            data.Add(new Dictionary<string, double?> { ["x"] = Round(x), ["y"] = Round(upper) });
            data.Add(new Dictionary<string, double?> { ["x"] = Round(x), ["y"] = null });
        }
        if (data.Count == 0) return;
        HasPoints = true;
        series.Add(new { name, type = "line", data });
        Colors.Add(color);
        MarkerSizes.Add(0);
        Shapes.Add("circle");
        StrokeWidths.Add(3);
        Dashes.Add(0);
    }

    private void Add(string name, string type, string color, List<object> data, int size, string shape, int width, int dash)
    {
        HasPoints |= data.Count > 0;
        series.Add(new { name, type, data });
        Colors.Add(color);
        MarkerSizes.Add(size);
        Shapes.Add(shape);
        StrokeWidths.Add(width);
        Dashes.Add(dash);
    }

    private static List<object> Finite(IEnumerable<(double X, double Y)> points) =>
        points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).Select(p => (object)new { x = Round(p.X), y = Round(p.Y) }).ToList();

    internal static double Round(double v) => Math.Round(v, 6);
}

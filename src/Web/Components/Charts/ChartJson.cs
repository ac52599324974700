using System.Globalization;
using System.Text.Json.Nodes;

namespace ScalingLedger.Web.Components.Charts;

/// <summary>
/// Reads the ApexCharts options <see cref="StudyCharts"/> builds, once serialised: the readers shared by the two places that
/// draw them without a browser (the page's first paint, <see cref="ChartSvg"/>, and the command line's report images).
/// </summary>
public static class ChartJson
{
    /// <summary>Apex accepts a scalar or a per-series array for most style options.</summary>
    public static JsonNode? At(JsonNode? node, int i) => node is JsonArray a ? (i < a.Count ? a[i] : null) : node;

    /// <summary>Apex allows yaxis (and xaxis) to be an array of axes; the first is drawn.</summary>
    public static JsonNode? First(JsonNode? node) => node is JsonArray a ? (a.Count > 0 ? a[0] : null) : node;

    public static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    public static bool Bool(JsonNode? n) => n is JsonValue v && v.TryGetValue(out bool b) && b;

    /// <summary>Reads a number whether the node was parsed from text or built from a CLR value; numeric strings count too.</summary>
    public static double? Num(JsonNode? n)
    {
        if (n is not JsonValue v) return null;
        if (v.TryGetValue(out double d)) return double.IsFinite(d) ? d : null;
        var raw = v.TryGetValue(out string? s) ? s ?? "" : v.ToJsonString();
        return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out d) && double.IsFinite(d) ? d : null;
    }
}

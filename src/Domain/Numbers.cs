using System.Globalization;
using System.Text.RegularExpressions;

namespace ScalingLedger.Domain;

/// <summary>How the ledger writes numbers, in its messages and on its pages: one formatter for all of them.</summary>
public static partial class Numbers
{
    /// <summary>
    /// <paramref name="digits"/> significant digits (3 by default), invariant, exponents written 7.1e44 and 4.56e-15.
    /// </summary>
    public static string Format(double value, int digits = 3) =>
        Exponent().Replace(value.ToString("G" + digits, CultureInfo.InvariantCulture),
            m => "e" + (m.Groups[1].Value == "-" ? "-" : "") + m.Groups[2].Value);

    /// <summary><paramref name="decimals"/> decimals, invariant (losses F3, z-scores F2, ratios F1).</summary>
    public static string Fixed(double value, int decimals) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    /// <summary>A nullable number with <paramref name="decimals"/> decimals, or an en dash.</summary>
    public static string Fixed(double? value, int decimals) => value is { } v ? Fixed(v, decimals) : "–";

    /// <summary>Four significant digits: what tables of parameters and predictions show.</summary>
    public static string Format4(double value) => Format(value, 4);

    /// <summary>A nullable number, or an en dash.</summary>
    public static string Format(double? value, int digits = 3) => value is { } v ? Format(v, digits) : "–";

    /// <summary>A width as it is written: whole widths in full (65536), others as <see cref="Format(double, int)"/>.</summary>
    public static string Width(double width) =>
        width == Math.Round(width) && Math.Abs(width) < 1e15 ? width.ToString("0", CultureInfo.InvariantCulture) : Format(width);

    /// <summary>A 95% interval: [lower, upper].</summary>
    public static string Interval(double lower, double upper, int digits = 3) => $"[{Format(lower, digits)}, {Format(upper, digits)}]";

    [GeneratedRegex(@"E([+-])0*(\d)")]
    private static partial Regex Exponent();
}

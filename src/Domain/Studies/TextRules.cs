namespace ScalingLedger.Domain.Studies;

/// <summary>
/// What a string given to the ledger (a name, an owner, a user, a reason) may hold: bounded, no control characters (a
/// NUL cannot be stored at all), no bidirectional controls (they make a name read as another) and no broken surrogate
/// pairs (not storable as JSON text).
/// </summary>
public static class TextRules
{
    /// <summary>Names, owners, users and reasons.</summary>
    public const int MaxShort = 200;

    /// <summary>What is wrong with <paramref name="value"/> as <paramref name="field"/>, or null when nothing is.</summary>
    public static string? Problem(string field, string? value, int max = MaxShort, bool optional = false, bool multiline = false)
    {
        if (value is null) return optional ? null : $"{field} is missing";
        if (value.Length > max) return $"{field} has {value.Length} characters: at most {max}";
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0') return $"{field} holds a NUL character";
            if (char.IsControl(c) && !(multiline && c is '\n' or '\r' or '\t')) return $"{field} holds a control character (U+{(int)c:X4})";
            if (IsBidiControl(c)) return $"{field} holds a bidirectional control character (U+{(int)c:X4})";
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(c)) return $"{field} holds a broken surrogate pair";
        }
        return null;
    }

    private static bool IsBidiControl(char c) => c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}

using System.Globalization;
using System.Text;

namespace ScalingLedger.Cli;

/// <summary>
/// What <c>ledger</c> prints of the ledger's text (names, owners, reasons, messages) reaches a terminal: a control character
/// in it could clear the screen, move the cursor or retitle the window, and a bidirectional control reorder what is read. Every
/// such character is printed as its escape (<c>\u001B</c>) instead; line breaks and tabs are kept where the text is a message.
/// The ledger refuses them at its door, but a terminal must not depend on every ledger it talks to.
/// </summary>
public static class Printable
{
    public static string Text(string? text, bool lines = false)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        StringBuilder? escaped = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var keep = !Unsafe(c) || (lines && c is '\n' or '\t');
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                escaped?.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }
            if (char.IsSurrogate(c)) keep = false;
            if (keep)
            {
                escaped?.Append(c);
                continue;
            }
            escaped ??= new StringBuilder(text.Length + 8).Append(text, 0, i);
            escaped.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
        }
        return escaped?.ToString() ?? text;
    }

    private static bool Unsafe(char c) =>
        char.IsControl(c) || c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}

/// <summary>A writer that prints through <see cref="Printable"/> (line breaks and tabs kept): standard output and error of <c>ledger</c>.</summary>
public sealed class PrintableWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => inner.Write(Printable.Text(value.ToString(), lines: true));

    public override void Write(string? value) => inner.Write(Printable.Text(value, lines: true));

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value) => inner.WriteLine(Printable.Text(value, lines: true));

    public override void WriteLine() => inner.WriteLine();

    public override void Flush() => inner.Flush();

    public override Task FlushAsync() => inner.FlushAsync();
}

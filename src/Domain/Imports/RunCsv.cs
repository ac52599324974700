using System.Globalization;

namespace ScalingLedger.Domain.Imports;

/// <summary>One run trained elsewhere: at least one size (width or parameters) and its final loss.</summary>
public sealed record ImportedRunRow(int Line, double? Width, double? Params, double? Tokens, double? LearningRate, int? Seed, double Loss);

public sealed record RunCsvResult(
    IReadOnlyList<ImportedRunRow> Rows,
    IReadOnlyList<string> Columns,
    IReadOnlyList<string> IgnoredColumns,
    IReadOnlyDictionary<string, string[]> Errors);

/// <summary>
/// Parses a CSV of runs trained elsewhere. The header names any of <c>width</c>, <c>params</c>, <c>tokens</c>,
/// <c>learningRate</c>, <c>seed</c>, <c>loss</c> (case-insensitive); at least one size column (width or params) and
/// <c>loss</c> are required. <c>flops</c> (training compute) gives tokens = flops / (6 params) when tokens are absent.
/// The column names of the Chinchilla replication data (<c>Model Size</c>, <c>Training FLOP</c>) are understood.
/// Other columns are ignored and listed. Errors name the line and the column; a file with any error imports nothing.
/// </summary>
public static class RunCsv
{
    public const int MaxRows = 100_000;

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["width"] = "width", ["params"] = "params", ["parameters"] = "params", ["model size"] = "params", ["n"] = "params",
        ["tokens"] = "tokens", ["d"] = "tokens", ["flops"] = "flops", ["training flop"] = "flops", ["compute"] = "flops",
        ["learningrate"] = "learningRate", ["learning_rate"] = "learningRate", ["lr"] = "learningRate",
        ["seed"] = "seed", ["loss"] = "loss",
    };

    public static RunCsvResult Parse(string text)
    {
        var errors = new Dictionary<string, List<string>>();
        void Error(string key, string message)
        {
            if (!errors.TryGetValue(key, out var list)) errors[key] = list = [];
            if (list.Count < 20) list.Add(message);
        }

        var lines = text.Replace("\r\n", "\n").Split('\n');
        var headerIndex = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (headerIndex < 0)
        {
            Error("csv", "The file is empty: it needs a header row and at least one run.");
            return Done([], [], [], errors);
        }

        var header = SplitLine(lines[headerIndex]);
        var columns = new Dictionary<string, int>();
        var ignored = new List<string>();
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i].Trim();
            if (Aliases.TryGetValue(name, out var canonical))
            {
                if (!columns.TryAdd(canonical, i)) Error("header", $"The column '{canonical}' appears twice.");
            }
            else ignored.Add(name);
        }
        if (!columns.ContainsKey("loss")) Error("header", "A 'loss' column is required.");
        if (!columns.ContainsKey("width") && !columns.ContainsKey("params")) Error("header", "A size column is required: 'width' or 'params'.");
        if (columns.ContainsKey("flops") && !columns.ContainsKey("params") && !columns.ContainsKey("tokens"))
            Error("header", "'flops' gives tokens only together with 'params'.");
        if (errors.Count > 0) return Done([], columns.Keys.ToList(), ignored, errors);

        var rows = new List<ImportedRunRow>();
        for (var li = headerIndex + 1; li < lines.Length; li++)
        {
            if (lines[li].Trim().Length == 0) continue;
            var line = li + 1;
            var cells = SplitLine(lines[li]);
            if (cells.Count != header.Count)
            {
                Error($"line {line}", $"Expected {header.Count} cells, found {cells.Count}.");
                continue;
            }
            double? Number(string column, bool positive)
            {
                if (!columns.TryGetValue(column, out var index)) return null;
                var cell = cells[index].Trim();
                if (cell.Length == 0) return null;
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                {
                    Error($"line {line}", $"{column}: '{cell}' is not a number.");
                    return null;
                }
                if (positive && v <= 0)
                {
                    Error($"line {line}", $"{column}: must be positive, got {cell}.");
                    return null;
                }
                return v;
            }
            var width = Number("width", true);
            var parameters = Number("params", true);
            var tokens = Number("tokens", true);
            var flops = Number("flops", true);
            var lr = Number("learningRate", true);
            var seedValue = Number("seed", false);
            var loss = Number("loss", true);
            if (loss is null && columns.ContainsKey("loss") && cells[columns["loss"]].Trim().Length == 0) Error($"line {line}", "loss is missing.");
            if (width is null && parameters is null) Error($"line {line}", "Neither width nor params is given.");
            if (width is { } w && (w != Math.Floor(w) || w > Studies.SpecValidation.MaxWidth))
                Error($"line {line}", $"width: must be a whole number at most {Studies.SpecValidation.MaxWidth}, got {w}.");
            int? seed = null;
            if (seedValue is { } sv)
            {
                if (sv < 0 || sv != Math.Floor(sv) || sv > int.MaxValue) Error($"line {line}", $"seed: must be a whole number >= 0, got {sv}.");
                else seed = (int)sv;
            }
            if (tokens is null && flops is { } c && parameters is { } n)
            {
                tokens = c / (6 * n);
                if (!double.IsFinite(tokens.Value) || tokens <= 0) Error($"line {line}", $"tokens = flops / (6 params) is not a usable number ({tokens}).");
            }
            if (loss is { } l && (width is not null || parameters is not null))
                rows.Add(new ImportedRunRow(line, width, parameters, tokens, lr, seed, l));
            if (rows.Count > MaxRows)
            {
                Error("csv", $"At most {MaxRows} runs can be imported at once.");
                break;
            }
        }
        if (rows.Count == 0 && errors.Count == 0) Error("csv", "The file has a header but no runs.");
        return Done(errors.Count > 0 ? [] : rows, columns.Keys.ToList(), ignored, errors);
    }

    private static RunCsvResult Done(List<ImportedRunRow> rows, List<string> columns, List<string> ignored, Dictionary<string, List<string>> errors) =>
        new(rows, columns, ignored, errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));

    /// <summary>Splits one CSV line, honouring double quotes.</summary>
    private static List<string> SplitLine(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else cell.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(ch);
        }
        cells.Add(cell.ToString());
        return cells;
    }
}

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

    /// <summary>Parses a whole CSV text (see <see cref="Reader"/> for one read line by line).</summary>
    public static RunCsvResult Parse(string text)
    {
        var reader = new Reader();
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
            if (!reader.Add(line)) break;
        return reader.Result();
    }

    /// <summary>
    /// Reads a CSV of runs one line at a time, so that a file is never held whole (the Server streams a request body through
    /// it): <see cref="Add"/> each line, then <see cref="Result"/>.
    /// </summary>
    public sealed class Reader
    {
        private readonly Dictionary<string, List<string>> errors = [];
        private readonly List<ImportedRunRow> rows = [];
        private readonly List<string> ignored = [];
        private readonly Dictionary<string, int> columns = [];
        private List<string>? header;
        private bool stopped;
        private int line;

        private void Error(string key, string message)
        {
            if (!errors.TryGetValue(key, out var list)) errors[key] = list = [];
            if (list.Count < 20) list.Add(message);
        }

        /// <summary>Takes the next line; false once reading should stop (too many runs, or a header that cannot be used).</summary>
        public bool Add(string text)
        {
            line++;
            if (stopped) return false;
            if (text.Trim().Length == 0) return true;
            if (header is null) return Header(text);
            Row(text);
            if (rows.Count > MaxRows)
            {
                Error("csv", $"At most {MaxRows} runs can be imported at once.");
                stopped = true;
            }
            return !stopped;
        }

        /// <summary>Stops reading with an error of the whole file (too large, say).</summary>
        public void Fail(string message)
        {
            Error("csv", message);
            stopped = true;
        }

        private bool Header(string text)
        {
            header = SplitLine(text);
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
            stopped = errors.Count > 0;
            return !stopped;
        }

        private void Row(string text)
        {
            var cells = SplitLine(text);
            if (cells.Count != header!.Count)
            {
                Error($"line {line}", $"Expected {header.Count} cells, found {cells.Count}.");
                return;
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
        }

        /// <summary>The runs, or (when anything was wrong) none and every problem by line and column.</summary>
        public RunCsvResult Result()
        {
            if (header is null && errors.Count == 0) Error("csv", "The file is empty: it needs a header row and at least one run.");
            else if (rows.Count == 0 && errors.Count == 0) Error("csv", "The file has a header but no runs.");
            return Done(errors.Count > 0 ? [] : rows, columns.Keys.ToList(), ignored, errors);
        }
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

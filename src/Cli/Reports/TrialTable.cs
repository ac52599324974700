using System.Globalization;
using Parquet.Serialization;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Cli.Reports;

/// <summary>
/// One trial of a study as a row of a table (CSV or Parquet): its grid cell, how it ended and its final result. The loss
/// column is named as <c>ledger import</c> reads it, so the completed rows of a CSV export import into another study.
/// </summary>
public sealed class TrialRow
{
    public string TrialId { get; set; } = "";
    public int Width { get; set; }
    public double LearningRate { get; set; }
    public int Seed { get; set; }
    public string Status { get; set; } = "";
    public int Attempt { get; set; }
    /// <summary>The final held-out loss (completed trials).</summary>
    public double? Loss { get; set; }
    public double? EvalAccuracy { get; set; }
    public long? ParameterCount { get; set; }
    public int? EndedAtStep { get; set; }
    public double? DurationSeconds { get; set; }
    public string? Reason { get; set; }
    /// <summary>Examples seen D and training FLOPs C (<see cref="TrialScale"/>); parameterCount is N, counted so where the trainer did not report it.</summary>
    public double? ExamplesSeen { get; set; }
    public double? TrainingFlops { get; set; }

    public static IReadOnlyList<TrialRow> Of(StudyView study) => study.Trials.OrderBy(t => t.Order).Select(t => Row(t, TrialScale.Of(study.Spec, t))).ToList();

    private static TrialRow Row(TrialView t, TrialScale? scale) => new()
    {
        TrialId = t.TrialId.ToString(), Width = t.Width, LearningRate = t.LearningRate, Seed = t.Seed, Status = t.Status.ToString(), Attempt = t.Attempt,
        Loss = t.Status == TrialStatus.Completed ? t.FinalEvalLoss : null, EvalAccuracy = t.FinalEvalAccuracy,
        ParameterCount = t.ParameterCount ?? (t.Params is null && scale is not null ? (long)scale.Parameters : null),
        EndedAtStep = t.EndedAtStep, DurationSeconds = t.DurationSeconds, Reason = t.Reason, ExamplesSeen = scale?.Examples, TrainingFlops = scale?.Flops,
    };

    private static readonly string[] Columns =
        ["trialId", "width", "learningRate", "seed", "status", "attempt", "loss", "evalAccuracy", "parameterCount", "endedAtStep",
            "durationSeconds", "reason", "examplesSeen", "trainingFlops"];

    public static async Task WriteCsvAsync(IReadOnlyList<TrialRow> rows, TextWriter to, CancellationToken cancel)
    {
        await to.WriteLineAsync(string.Join(',', Columns));
        foreach (var r in rows)
        {
            cancel.ThrowIfCancellationRequested();
            await to.WriteLineAsync(string.Join(',', r.TrialId, r.Width, N(r.LearningRate), r.Seed, r.Status, r.Attempt, N(r.Loss), N(r.EvalAccuracy),
                r.ParameterCount, r.EndedAtStep, N(r.DurationSeconds), Quoted(r.Reason), N(r.ExamplesSeen), N(r.TrainingFlops)));
        }
    }

    public static Task WriteParquetAsync(IReadOnlyList<TrialRow> rows, Stream to, CancellationToken cancel) =>
        ParquetSerializer.SerializeAsync(rows, to, cancellationToken: cancel);

    private static string N(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    /// <summary>
    /// A text cell as CSV (RFC 4180): quoted when it holds a comma, a quote or a line break; one that a spreadsheet would take
    /// for a formula (it begins with =, +, -, @, a tab or a carriage return: <c>=HYPERLINK(...)</c> in a failure's reason) is
    /// kept as text behind a quote mark, as OWASP advises.
    /// </summary>
    public static string Quoted(string? text)
    {
        if (text is null) return "";
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r') text = "'" + text;
        return text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";
    }
}

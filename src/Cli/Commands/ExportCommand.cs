using System.ComponentModel;
using ScalingLedger.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli.Commands;

/// <summary>
/// <c>ledger export STUDY --format events|csv|parquet [--out FILE]</c>: the study's every event with its hash (to import into
/// another ledger: <c>ledger import-events</c>), or its trials as a table. Standard output unless <c>--out</c>.
/// </summary>
public sealed class ExportCommand : LedgerCommand<ExportCommand.Settings>
{
    public static readonly IReadOnlyList<string> Formats = ["events", "csv", "parquet"];

    public sealed class Settings : StudySettings
    {
        [CommandOption("--format <FORMAT>")]
        [Description("events (the whole record, hash-chained), csv or parquet (one row a trial); default events")]
        public string Format { get; set; } = "events";

        [CommandOption("--out <FILE>")]
        [Description("Write here instead of standard output")]
        public string? Out { get; set; }

        public override ValidationResult Validate() =>
            Formats.Contains(Format) ? base.Validate() : ValidationResult.Error($"--format is one of {string.Join(", ", Formats)}, not '{Format}'.");
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        var id = await StudyIdAsync(client, settings.Study, cancel);
        var temporary = settings.Out is null ? null : settings.Out + ".part";
        try
        {
            await using (var to = temporary is null ? Io.OpenStandardOutput() : Create(temporary))
            {
                if (settings.Format == "events") await client.ExportStudyAsync(id, to, cancel);
                else
                {
                    var rows = TrialRow.Of(await client.GetStudyAsync(id, null, "none", cancel));
                    if (settings.Format == "parquet") await TrialRow.WriteParquetAsync(rows, to, cancel);
                    else
                    {
                        await using var text = new StreamWriter(to, leaveOpen: true);
                        await TrialRow.WriteCsvAsync(rows, text, cancel);
                    }
                }
            }
        }
        catch when (temporary is not null)
        {
            File.Delete(temporary);
            throw;
        }
        if (temporary is not null)
        {
            // Whole or not at all: a stopped export leaves no half file under the name asked for.
            File.Move(temporary, settings.Out!, overwrite: true);
            Io.Err.WriteLine($"Study {id} exported as {settings.Format} to {settings.Out} ({new FileInfo(settings.Out!).Length:N0} bytes).");
        }
        return ExitCodes.Ok;
    }

    private static FileStream Create(string path)
    {
        try
        {
            return File.Create(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LedgerCliException(ExitCodes.Usage, $"Cannot write {path}: {ex.Message}");
        }
    }
}

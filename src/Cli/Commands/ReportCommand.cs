using System.ComponentModel;
using ScalingLedger.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli.Commands;

/// <summary><c>ledger report STUDY --out DIR [--as-of SEQ]</c>: the study's figures as PNG and SVG and a markdown summary.</summary>
public sealed class ReportCommand : LedgerCommand<ReportCommand.Settings>
{
    public sealed class Settings : StudySettings
    {
        [CommandOption("--out <DIR>")]
        [Description("The directory to write into (made if missing)")]
        public string? Out { get; set; }

        [CommandOption("--as-of <SEQ>")]
        [Description("The study as it was at this global event sequence (the site's replay shows them)")]
        public long? AsOf { get; set; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("Say where to write the report: --out DIR.")
            : AsOf is < 0 ? ValidationResult.Error("--as-of is an event sequence, 0 or more.")
            : base.Validate();
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        var id = await StudyIdAsync(client, settings.Study, cancel);
        var study = await client.GetStudyAsync(id, settings.AsOf, "none", cancel);
        var fits = await client.ListStudyFitsAsync(id, cancel);
        IReadOnlyList<StudyReport.Image> images;
        try
        {
            images = StudyReport.Write(study, fits, settings.AsOf, settings.Out!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LedgerCliException(ExitCodes.Usage, $"Cannot write the report into {settings.Out}: {ex.Message}");
        }
        var readme = Path.Combine(settings.Out!, "README.md");
        return Answer(settings, new { study = id, readme, images },
            [$"Report of {study.Name} written to {settings.Out}: {readme} and {images.Count} figures as PNG and SVG:",
                .. images.Select(image => $"  {image.Png}  {image.Title}")]);
    }
}

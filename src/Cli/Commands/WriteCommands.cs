using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScalingLedger.Domain.Studies;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli.Commands;

/// <summary>
/// <c>ledger submit FILE [--wait]</c>: define a study from a spec file; with <c>--wait</c>, follow it to its end (trials ended
/// of total, the running trials, an ETA, predictions that missed) and print its laws.
/// </summary>
public sealed class SubmitCommand : LedgerCommand<SubmitCommand.Settings>
{
    public sealed class Settings : LedgerSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("The study's spec, JSON (examples/quick-demo.json is one)")]
        public string File { get; set; } = "";

        [CommandOption("--wait")]
        [Description("Follow the study until it ends, then print its laws")]
        public bool Wait { get; set; }
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        JsonNode spec;
        await using (var file = OpenRead(settings.File))
        {
            try
            {
                spec = await JsonNode.ParseAsync(file, cancellationToken: cancel) ?? throw new JsonException("it is null");
            }
            catch (JsonException ex)
            {
                throw new LedgerCliException(ExitCodes.Usage, $"{settings.File} is not JSON: {ex.Message}");
            }
        }
        var created = await client.DefineStudyAsync(spec, cancel);
        var id = created["id"]!.GetValue<Guid>();
        Say(settings, $"Study {spec["name"]} defined: {id}, {created["trials"]?.ToString() ?? "its"} trials queued.");
        if (!settings.Wait)
        {
            if (settings.Json) WriteJson(created);
            return ExitCodes.Ok;
        }
        StudyView study;
        try
        {
            study = await StudyProgress.FollowAsync(client, id, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new LedgerCliException(ExitCodes.Interrupted, $"Stopped following study {id}; it goes on in the ledger (ledger status {id}).");
        }
        return Answer(settings, study, () =>
        {
            Io.Out.WriteLine($"Study {study.Name} {study.Status.ToString().ToLowerInvariant()}.");
            StudyText.WriteLaws(Io.OutConsole(), study);
        }, study.Status == StudyStatus.Completed ? ExitCodes.Ok : ExitCodes.NotGood);
    }
}

/// <summary><c>ledger cancel STUDY</c>: stop a running study (its owner, managers and admins).</summary>
public sealed class CancelCommand : LedgerCommand<CancelCommand.Settings>
{
    public sealed class Settings : StudySettings
    {
        [CommandOption("--reason <TEXT>")]
        [Description("Why, kept with the cancellation")]
        public string? Reason { get; set; }
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        var id = await StudyIdAsync(client, settings.Study, cancel);
        var answer = await client.CancelStudyAsync(id, settings.Reason, cancel);
        return Answer(settings, answer, () => Io.Out.WriteLine(
            answer["status"]?.GetValue<string>() is { } status && status != nameof(StudyStatus.Cancelled)
                ? $"Study {id} had already ended ({status.ToLowerInvariant()}): nothing to cancel."
                : $"Study {id} is cancelled: its queued trials will not run, running ones stop at their next checkpoint."));
    }
}

/// <summary>
/// <c>ledger extend STUDY --widths 4096[,8192] [--seeds 0,1] [--fixed-rates 0.001] [--reason TEXT]</c>: add widths to a study that
/// runs or has completed (its owner, managers and admins), each at the rates the ledger chooses where its laws point; prints each
/// width's rates and why.
/// </summary>
public sealed class ExtendCommand : LedgerCommand<ExtendCommand.Settings>
{
    public sealed class Settings : StudySettings
    {
        [CommandOption("--widths <WIDTHS>")]
        [Description("The widths to add, comma-separated (at most 8)")]
        public string? Widths { get; set; }

        [CommandOption("--seeds <SEEDS>")]
        [Description("The seeds of each new trial, comma-separated (default: the study's)")]
        public string? Seeds { get; set; }

        [CommandOption("--fixed-rates <RATES>")]
        [Description("The naive fixed rates to train beside the ladder, comma-separated (default: the best rate at the smallest width; none: no fixed rate)")]
        public string? FixedRates { get; set; }

        [CommandOption("--reason <TEXT>")]
        [Description("Why, kept with the extension")]
        public string? Reason { get; set; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Widths) ? ValidationResult.Error("Name the widths to add: --widths 4096[,8192].")
            : Ints(Widths) is null ? ValidationResult.Error("--widths is a comma-separated list of whole numbers.")
            : Seeds is not null && Ints(Seeds) is null ? ValidationResult.Error("--seeds is a comma-separated list of whole numbers.")
            : FixedRates is not null && FixedRates != "none" && Doubles(FixedRates) is null
                ? ValidationResult.Error("--fixed-rates is a comma-separated list of numbers, or none.")
            : base.Validate();
    }

    /// <summary>A comma-separated list of whole numbers, or null.</summary>
    private static List<int>? Ints(string text) =>
        List<int>(text, part => int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null);

    /// <summary>A comma-separated list of numbers, or null.</summary>
    private static List<double>? Doubles(string text) =>
        List<double>(text, part => double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null);

    private static List<T>? List<T>(string text, Func<string, T?> parse) where T : struct
    {
        var values = new List<T>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (parse(part) is not { } value) return null;
            values.Add(value);
        }
        return values;
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        var id = await StudyIdAsync(client, settings.Study, cancel);
        var request = new ExtensionRequest(Ints(settings.Widths!)!, settings.Seeds is null ? null : Ints(settings.Seeds),
            settings.FixedRates switch { null => null, "none" => [], var rates => Doubles(rates) },
            settings.Reason);
        var answer = await client.ExtendStudyAsync(id, request, cancel);
        return Answer(settings, answer, () =>
        {
            var widths = answer["widths"]!.Deserialize<List<ScalingLedger.Contracts.ExtendedWidth>>(ScalingLedger.Contracts.LedgerJson.Api)!;
            Io.Out.WriteLine($"Study {id} extended: {answer["trials"]} new trials (seeds {string.Join(", ", answer["seeds"]!.AsArray())}), " +
                             $"{answer["predictions"]} predictions recorded before any of them runs.");
            StudyText.WriteExtendedWidths(Io.OutConsole(), widths);
            foreach (var note in answer["notes"]!.AsArray()) Io.Out.WriteLine(Printable.Text($"  {note}"));
        });
    }
}

/// <summary><c>ledger import CSV --name N</c>: a study of runs trained elsewhere, fitted at once.</summary>
public sealed class ImportCommand : LedgerCommand<ImportCommand.Settings>
{
    public sealed class Settings : LedgerSettings
    {
        [CommandArgument(0, "<CSV>")]
        [Description("Runs, one a line, under a header naming width (or params, tokens), learningRate, seed and loss")]
        public string File { get; set; } = "";

        [CommandOption("--name <NAME>")]
        [Description("The study's name")]
        public string? Name { get; set; }

        [CommandOption("--owner <USER>")]
        [Description("Its owner (the local ledger only; with access control it is you)")]
        public string? Owner { get; set; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Name) ? ValidationResult.Error("Name the imported study: --name NAME.") : base.Validate();
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        await using var csv = OpenRead(settings.File);
        var answer = await client.ImportStudyAsync(csv, settings.Name!, settings.Owner, cancel);
        return Answer(settings, answer, $"Study {settings.Name} imported: {answer["id"]}, {answer["runs"]} runs, fitted.");
    }
}

/// <summary><c>ledger import-events FILE</c>: bring in a study exported from another ledger (admins).</summary>
public sealed class ImportEventsCommand : LedgerCommand<ImportEventsCommand.Settings>
{
    public sealed class Settings : LedgerSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("A study's events, as ledger export --format events wrote them")]
        public string File { get; set; } = "";
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        await using var file = OpenRead(settings.File);
        var answer = await client.ImportStudyEventsAsync(file, cancel);
        return Answer(settings, answer, () =>
        {
            Io.Out.WriteLine($"Study {answer["name"]} imported: {answer["id"]}, {answer["events"]} events" +
                             (answer["head"] is JsonObject head ? $"; its chain's head {head["version"]}:{head["hash"]} (ledger verify checks it)." : "."));
            if (answer["says"]?.GetValue<string>() is { } says) Io.Out.WriteLine(says);
        });
    }
}

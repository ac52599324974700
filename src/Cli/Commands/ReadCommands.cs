using System.ComponentModel;
using ScalingLedger.Cli.Reports;
using ScalingLedger.Domain;
using ScalingLedger.Domain.Studies;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli.Commands;

/// <summary><c>ledger studies</c>: every study, one line each.</summary>
public sealed class StudiesCommand : LedgerCommand<LedgerSettings>
{
    protected override async Task<int> RunAsync(LedgerClient client, LedgerSettings settings, CancellationToken cancel)
    {
        var studies = await client.ListStudiesAsync(cancel);
        return List(settings, studies.OrderByDescending(s => s.DefinedAt).ToList(), "The ledger holds no study yet (ledger submit FILE defines one).",
            ["id", "name", "owner", "status", "trials ended", "fits", "last activity"],
            s => [s.Id.ToString(), s.Name, s.Owner, s.Status.ToString(), $"{s.EndedTrials()}/{s.TrialCount}", s.FitCount.ToString(),
                s.LastActivityAt?.ToString("yyyy-MM-dd HH:mm")]);
    }
}

/// <summary><c>ledger status STUDY</c>: where a study is, its trials by status and its laws.</summary>
public sealed class StatusCommand : LedgerCommand<StudySettings>
{
    protected override async Task<int> RunAsync(LedgerClient client, StudySettings settings, CancellationToken cancel)
    {
        var study = await client.GetStudyAsync(await StudyIdAsync(client, settings.Study, cancel), null, "none", cancel);
        return Answer(settings, study, () => StudyText.Write(Io.OutConsole(), study));
    }
}

/// <summary><c>ledger verify STUDY</c>: whether its hash-chained events are intact (exit 1 when not).</summary>
public sealed class VerifyCommand : LedgerCommand<VerifyCommand.Settings>
{
    public sealed class Settings : StudySettings
    {
        [CommandOption("--expect <VERSION:HASH>")]
        [Description("A head kept outside the ledger (as verify printed it): the chain must still pass through it")]
        public string? Expect { get; set; }
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        var verdict = await client.VerifyStudyAsync(await StudyIdAsync(client, settings.Study, cancel), settings.Expect, cancel);
        var intact = verdict["intact"]!.GetValue<bool>();
        return Answer(settings, verdict, () =>
        {
            Io.Out.WriteLine(verdict["says"]!.GetValue<string>());
            if (verdict["head"] is { } head) Io.Out.WriteLine($"head (keep it elsewhere to check against later): {head["version"]}:{head["hash"]}");
        }, intact ? ExitCodes.Ok : ExitCodes.NotGood);
    }
}

/// <summary>A study as text for the terminal: its facts, its trials by status, its laws and its deviations.</summary>
public static class StudyText
{
    public static void Write(IAnsiConsole console, StudyView study)
    {
        var trials = study.Trials.GroupBy(t => t.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        console.WriteLine(Printable.Text($"{study.Name} ({study.Id})"));
        console.WriteLine(Printable.Text($"  {study.Status.ToString().ToLowerInvariant()}, {study.Source}, owner {study.Owner}; {study.TrialCount} trials: " +
                                         string.Join(", ", trials)));
        var deviations = study.CrediblePredictions.Count(p => p.IsDeviation);
        var resolved = study.CrediblePredictions.Count(p => p.Resolution is not null);
        console.WriteLine($"  {study.FitCount} fits, {study.PredictionCount} predictions ({resolved} resolved, {deviations} outside their 95% interval)");
        foreach (var import in study.Imports) console.WriteLine(Printable.Text($"  {import.Says()}"));
        foreach (var extension in study.Extensions)
        {
            console.WriteLine(Printable.Text($"  extended {extension.Says()}"));
            WriteExtendedWidths(console, extension.Widths);
        }
        WriteLaws(console, study);
    }

    /// <summary>Each width an extension added: its rates and why each, and the law's claim they came from.</summary>
    public static void WriteExtendedWidths(IAnsiConsole console, IEnumerable<ScalingLedger.Contracts.ExtendedWidth> widths)
    {
        foreach (var w in widths) console.WriteLine(Printable.Text($"    {StudyExtension.WidthLine(w)}"));
    }

    public static void WriteLaws(IAnsiConsole console, StudyView study)
    {
        var laws = LawLines.Of(study);
        if (laws.Count == 0)
        {
            console.WriteLine("  No law is fitted yet.");
            return;
        }
        var table = TextTable.Of("law", "key", "parameters (95% bootstrap interval)", "R²", "credible", "at the target widths");
        foreach (var law in laws)
            TextTable.Row(table, law.Law, law.Key, law.Parameters, Numbers.Fixed(law.RSquared, 3),
                law.Credible ? "yes" : law.Converged ? "no" : "did not converge", law.Targets);
        console.Write(table);
    }
}

using System.ComponentModel;
using System.Net.Http.Headers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli;

/// <summary>What every command takes: which ledger, as whom, and whether to answer in JSON.</summary>
public class LedgerSettings : CommandSettings
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    [CommandOption("--url <URL>")]
    [Description("The ledger's address (default: LEDGER_URL, else " + DefaultUrl + ")")]
    public string? Url { get; set; }

    [CommandOption("--token <TOKEN>")]
    [Description("An API token (default: LEDGER_TOKEN); the local ledger needs none")]
    public string? Token { get; set; }

    [CommandOption("--json")]
    [Description("Print machine-readable JSON on standard output")]
    public bool Json { get; set; }

    public string EffectiveUrl => Url ?? CliContext.Current.Environment("LEDGER_URL") ?? DefaultUrl;

    public string? EffectiveToken => Token ?? CliContext.Current.Environment("LEDGER_TOKEN");

    public override ValidationResult Validate() =>
        Uri.TryCreate(EffectiveUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? ValidationResult.Success()
            : ValidationResult.Error($"The ledger's address '{EffectiveUrl}' is not an http(s) URL (give --url or LEDGER_URL, e.g. {DefaultUrl}).");

    public LedgerClient Connect()
    {
        var context = CliContext.Current;
        var http = context.Handler is { } handler ? new HttpClient(handler, disposeHandler: false) : new HttpClient();
        http.BaseAddress = new Uri(EffectiveUrl);
        http.Timeout = TimeSpan.FromMinutes(10);
        if (EffectiveToken is { Length: > 0 } token) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new LedgerClient(http);
    }
}

/// <summary>A command that names a study: by its id, or by its name when one study has it.</summary>
public class StudySettings : LedgerSettings
{
    [CommandArgument(0, "<STUDY>")]
    [Description("The study's id, or its name")]
    public string Study { get; set; } = "";
}

using ScalingLedger.Cli.Commands;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli;

/// <summary>
/// <c>ledger</c>: the command line of ScalingLedger, over the same HTTP API as anyone (<see cref="LedgerClient"/>). Every error
/// is one line on standard error saying what to do, with an exit code of <see cref="ExitCodes"/>.
/// </summary>
public static class LedgerCli
{
    public static async Task<int> RunAsync(string[] args, CliContext? context = null, CancellationToken cancel = default)
    {
        CliContext.Use(context);
        var io = CliContext.Current;
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("ledger");
            config.Settings.StrictParsing = true;
            config.Settings.CancellationExitCode = ExitCodes.Interrupted;
            config.Settings.Console = io.OutConsole();
            config.SetExceptionHandler((ex, _) =>
            {
                var (code, message) = ex switch
                {
                    LedgerCliException e => (e.ExitCode, e.Message),
                    OperationCanceledException => (ExitCodes.Interrupted, "Stopped."),
                    CommandAppException e => (ExitCodes.Usage,
                        $"{e.Message.TrimEnd('.')}. (ledger --help lists the commands; ledger COMMAND --help its options.)"),
                    _ => (ExitCodes.ServerError, $"Unexpected: {ex.GetType().Name}: {ex.Message}"),
                };
                io.Err.WriteLine($"ledger: {message.ReplaceLineEndings(" ")}");
                return code;
            });
            config.AddCommand<SubmitCommand>("submit").WithDescription("Define a study from a spec file; --wait follows it to its end and prints its laws.")
                .WithExample("submit", "examples/quick-demo.json", "--wait");
            config.AddCommand<StudiesCommand>("studies").WithDescription("Every study, with its status and trials ended.");
            config.AddCommand<StatusCommand>("status").WithDescription("A study: its trials by status, its fits, its laws.");
            config.AddCommand<CancelCommand>("cancel").WithDescription("Cancel a running study.");
            config.AddCommand<ExtendCommand>("extend")
                .WithDescription("Add widths to a study, each at rates around its optimal-LR law's predicted best and the naive fixed rate.");
            config.AddCommand<ImportCommand>("import").WithDescription("Make a study of runs trained elsewhere, from a CSV.")
                .WithExample("import", "runs.csv", "--name", "chinchilla-table");
            config.AddCommand<ExportCommand>("export").WithDescription("Export a study: its events (for import-events), or its trials as CSV or Parquet.")
                .WithExample("export", "quick-demo", "--format", "events", "--out", "quick-demo.events.json");
            config.AddCommand<ImportEventsCommand>("import-events").WithDescription("Bring in a study exported from another ledger (admins).");
            config.AddCommand<ReportCommand>("report")
                .WithDescription("Write a study's panels, belief histories and calibration as PNG and SVG, and a markdown summary.")
                .WithExample("report", "quick-demo", "--out", "report/");
            config.AddCommand<VerifyCommand>("verify").WithDescription("Check a study's hash-chained events (exit 1 when they do not verify).");
            config.AddBranch<LedgerSettings>("tokens", tokens =>
            {
                tokens.SetDescription("API tokens (admins).");
                tokens.AddCommand<TokensCreateCommand>("create").WithDescription("Make a token for a user and role; its secret is shown once.");
                tokens.AddCommand<TokensListCommand>("list").WithDescription("Every token made (never their secrets).");
                tokens.AddCommand<TokensRevokeCommand>("revoke").WithDescription("Revoke a token at once.");
            });
            config.AddCommand<IdentityCommand>("identity").WithDescription("This ledger's public key, for the ledgers that import from it.");
            config.AddBranch<LedgerSettings>("trust", trust =>
            {
                trust.SetDescription("The ledgers whose signed exports this one takes as of verified origin (admins).");
                trust.AddCommand<TrustAddCommand>("add").WithDescription("Trust another ledger's key under a name.");
                trust.AddCommand<TrustListCommand>("list").WithDescription("The ledgers trusted.");
                trust.AddCommand<TrustRemoveCommand>("remove").WithDescription("Stop trusting a ledger's key.");
            });
        });
        try
        {
            return await app.RunAsync(GlobalOptionsLast(args), cancel);
        }
        finally
        {
            CliContext.Use(null);
        }
    }

    /// <summary>
    /// <c>ledger --url U studies</c> as <c>ledger studies --url U</c>: the options every command takes may come before the
    /// command too (the parser takes them after it only).
    /// </summary>
    internal static string[] GlobalOptionsLast(string[] args)
    {
        var leading = new List<string>();
        var i = 0;
        while (i < args.Length)
        {
            if (args[i] == "--json") leading.Add(args[i++]);
            else if (args[i] is "--url" or "--token" && i + 1 < args.Length) leading.AddRange([args[i++], args[i++]]);
            else if (args[i].StartsWith("--url=", StringComparison.Ordinal) || args[i].StartsWith("--token=", StringComparison.Ordinal)) leading.Add(args[i++]);
            else break;
        }
        return [.. args[i..], .. leading];
    }
}

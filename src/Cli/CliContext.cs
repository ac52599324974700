using Spectre.Console;

namespace ScalingLedger.Cli;

/// <summary>
/// Where a run of <c>ledger</c> writes and how it reaches the ledger: the process's console and the network by default; a
/// test gives its own writers and the in-process Server's handler.
/// </summary>
public sealed class CliContext
{
    private readonly TextWriter rawOut = System.Console.Out;
    private readonly TextWriter rawErr = System.Console.Error;
    private PrintableWriter? printableOut;
    private PrintableWriter? printableErr;

    /// <summary>Standard output, printing the ledger's text safely for a terminal (see <see cref="Printable"/>).</summary>
    public TextWriter Out { get => printableOut ??= new PrintableWriter(rawOut); init => rawOut = value; }

    /// <summary>Progress and errors: standard error, so that standard output holds only what was asked for (a table, JSON, a file).</summary>
    public TextWriter Err { get => printableErr ??= new PrintableWriter(rawErr); init => rawErr = value; }
    /// <summary>Whether progress may redraw in place (standard error is a terminal).</summary>
    public bool Interactive { get; init; } = !System.Console.IsErrorRedirected;
    /// <summary>Standard output as bytes, for exports written there (events, CSV, Parquet).</summary>
    public Func<Stream> OpenStandardOutput { get; init; } = System.Console.OpenStandardOutput;
    /// <summary>The handler requests go through (null: the network).</summary>
    public HttpMessageHandler? Handler { get; init; }
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
    /// <summary>How often <c>submit --wait</c> looks at the study.</summary>
    public TimeSpan PollEvery { get; init; } = TimeSpan.FromSeconds(1);

    private static readonly AsyncLocal<CliContext?> current = new();

    public static CliContext Current => current.Value ?? Process;

    private static readonly CliContext Process = new();

    internal static void Use(CliContext? context) => current.Value = context;

    /// <summary>A console over <see cref="Out"/> for tables (plain text when it is not a terminal, never wrapped at 80 columns).</summary>
    /// <remarks>The consoles write their own control sequences (a bar redrawn in place): what they print of the ledger's text goes
    /// through <see cref="Printable"/> where it is put in (<see cref="TextTable"/>, the progress lines).</remarks>
    public IAnsiConsole OutConsole() =>
        Create(rawOut, interactive: false, terminal: ReferenceEquals(rawOut, System.Console.Out) && !System.Console.IsOutputRedirected);

    /// <summary>A console over <see cref="Err"/> for progress.</summary>
    public IAnsiConsole ErrConsole() => Create(rawErr, Interactive, Interactive);

    private static IAnsiConsole Create(TextWriter writer, bool interactive, bool terminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        if (!terminal) console.Profile.Width = 200;
        return console;
    }
}

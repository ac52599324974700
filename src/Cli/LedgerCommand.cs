using System.Text.Json;
using ScalingLedger.Contracts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli;

/// <summary>The shape of every command: connect, do one thing, print it as a table or as JSON, return an exit code.</summary>
public abstract class LedgerCommand<T> : AsyncCommand<T> where T : LedgerSettings
{
    protected static CliContext Io => CliContext.Current;

    private static readonly JsonSerializerOptions Pretty = new(LedgerJson.Api) { WriteIndented = true };

    public sealed override async Task<int> ExecuteAsync(CommandContext context, T settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        return await RunAsync(client, settings, cancellationToken);
    }

    protected abstract Task<int> RunAsync(LedgerClient client, T settings, CancellationToken cancel);

    protected static void WriteJson(object value) => Io.Out.WriteLine(JsonSerializer.Serialize(value, Pretty));

    /// <summary>
    /// Prints what a command found or did: <paramref name="json"/> under --json, otherwise what <paramref name="write"/>
    /// writes for people; returns <paramref name="code"/>.
    /// </summary>
    protected static int Answer(T settings, object json, Action write, int code = ExitCodes.Ok)
    {
        if (settings.Json) WriteJson(json);
        else write();
        return code;
    }

    /// <summary>Prints what a command found or did: <paramref name="json"/> under --json, otherwise <paramref name="lines"/>.</summary>
    protected static int Answer(T settings, object json, params string[] lines) =>
        Answer(settings, json, () => Array.ForEach(lines, Io.Out.WriteLine));

    /// <summary>
    /// Prints a list: <paramref name="items"/> as JSON under --json, otherwise <paramref name="none"/> when it is empty or a
    /// table under <paramref name="columns"/> with <paramref name="row"/>'s cells for each item.
    /// </summary>
    protected static int List<TItem>(T settings, IEnumerable<TItem> items, string none, string[] columns, Func<TItem, string?[]> row) =>
        Answer(settings, items, () =>
        {
            if (!items.Any())
            {
                Io.Out.WriteLine(none);
                return;
            }
            var table = Table(columns);
            foreach (var item in items) Row(table, row(item));
            Io.OutConsole().Write(table);
        });

    /// <summary>A one-line message for people (on standard error when the output is JSON, so the JSON stays whole).</summary>
    protected static void Say(T settings, string text) => (settings.Json ? Io.Err : Io.Out).WriteLine(text);

    /// <summary>The study a command names: its id, or the one study with that name.</summary>
    protected static async Task<Guid> StudyIdAsync(LedgerClient client, string study, CancellationToken cancel)
    {
        if (Guid.TryParse(study, out var id)) return id;
        var named = (await client.ListStudiesAsync(cancel)).Where(s => s.Name == study).ToList();
        return named.Count switch
        {
            1 => named[0].Id,
            0 => throw new LedgerCliException(ExitCodes.NotFound, $"No study is named '{study}' (ledger studies lists them)."),
            _ => throw new LedgerCliException(ExitCodes.Usage,
                $"{named.Count} studies are named '{study}': give one's id ({string.Join(", ", named.Select(s => s.Id))})."),
        };
    }

    protected static Table Table(params string[] columns) => TextTable.Of(columns);

    protected static void Row(Table table, params string?[] cells) => TextTable.Row(table, cells);

    protected static FileStream OpenRead(string path)
    {
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LedgerCliException(ExitCodes.Usage, $"Cannot read {path}: {ex.Message}");
        }
    }
}

/// <summary>A table whose cells are text, never markup: names come from users, and a <c>[</c> in one must print as itself.</summary>
public static class TextTable
{
    public static Table Of(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns) table.AddColumn(new TableColumn(new Text(column)));
        return table;
    }

    public static void Row(Table table, params string?[] cells) =>
        table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(Printable.Text(c))));
}

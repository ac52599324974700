using Microsoft.Extensions.Options;
using Npgsql;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Store;

/// <summary>
/// Where the ledger lives: <c>ConnectionStrings:Ledger</c> when set, else a private embedded PostgreSQL cluster
/// started on first use and stopped when the host is disposed.
/// </summary>
public sealed class LedgerDatabase(IConfiguration configuration, IOptions<LedgerOptions> options, ILogger<LedgerDatabase> log) : IAsyncDisposable
{
    private readonly Lock gate = new();
    private EmbeddedPostgres? embedded;
    private string? connectionString;

    /// <summary>
    /// Resolves the database now (starting the embedded cluster if needed), so that a problem is reported as one
    /// clear line at start-up rather than from deep inside the first request. Returns the problem, or null.
    /// </summary>
    public string? TryStart()
    {
        try
        {
            var connection = ConnectionString;
            if (embedded is not null) return null;
            // A database of the team's (ConnectionStrings:Ledger): reached now, or the Server says why in one line and exits.
            var target = new NpgsqlConnectionStringBuilder(connection) { Timeout = 15, Pooling = false };
            using var probe = new NpgsqlConnection(target.ConnectionString);
            probe.Open();
            return null;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or ArgumentException)
        {
            var target = TryDescribe(configuration.GetConnectionString("Ledger"));
            return $"cannot reach the ledger's database {target}: {ex.Message.Split('\n')[0]}";
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return ex.Message;
        }
    }

    /// <summary>Host, port and database of a connection string, never its password.</summary>
    private static string TryDescribe(string? connection)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connection);
            return $"{b.Database} on {b.Host}:{b.Port} as {b.Username}";
        }
        catch (ArgumentException)
        {
            return "(ConnectionStrings:Ledger could not be read)";
        }
    }

    /// <summary>The embedded cluster's data directory, once it is started (null for a team's database).</summary>
    public string? EmbeddedDataDirectory
    {
        get
        {
            _ = ConnectionString;
            return embedded?.DataDirectory;
        }
    }

    public string ConnectionString
    {
        get
        {
            lock (gate)
            {
                return connectionString ??= Resolve();
            }
        }
    }

    private string Resolve()
    {
        var configured = configuration.GetConnectionString("Ledger");
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        var dir = options.Value.DataDirectory is { Length: > 0 } d ? d : EmbeddedPostgres.DefaultDataDirectory();
        embedded = EmbeddedPostgres.StartAsync(dir, options.Value.Database, m => log.LogInformation("{Message}", m)).GetAwaiter().GetResult();
        return embedded.ConnectionString(options.Value.Database);
    }

    public async ValueTask DisposeAsync()
    {
        if (embedded is not null) await embedded.DisposeAsync();
    }
}

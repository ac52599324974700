using Microsoft.Extensions.Options;

namespace ScalingLedger.Server.Infrastructure;

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
            _ = ConnectionString;
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return ex.Message;
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

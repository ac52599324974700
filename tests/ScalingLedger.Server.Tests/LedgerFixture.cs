using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using ScalingLedger.Server.Infrastructure;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// One real PostgreSQL for the whole test run, started by the Server's own embedded launcher in a fresh directory.
/// Each test gets a database of its own, so tests share no data and need no order.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"scalingledger-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
    public EmbeddedPostgres Postgres { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await EmbeddedPostgres.StartAsync(Path.Combine(directory, "pg"), "postgres", _ => { });
    }

    public async Task DisposeAsync()
    {
        await Postgres.StopAsync();
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>A Server on a database of its own. <paramref name="settings"/> are extra configuration values.</summary>
    public async Task<LedgerApp> NewLedgerAsync(params (string Key, string Value)[] settings)
    {
        var database = "t_" + Guid.NewGuid().ToString("N")[..16];
        await Postgres.CreateDatabaseAsync(database);
        return new LedgerApp(Postgres.ConnectionString(database), settings);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>The real Server (Marten, MassTransit in memory, embedded trainer) over a test database.</summary>
public sealed class LedgerApp(string connectionString, (string Key, string Value)[] settings) : WebApplicationFactory<Program>
{
    public string ConnectionString { get; } = connectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Ledger", ConnectionString);
        builder.UseSetting("Trainer:ThreadsPerTrial", "1");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
    }
}

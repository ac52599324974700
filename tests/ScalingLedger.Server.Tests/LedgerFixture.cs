using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ScalingLedger.Server.Store;

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
    public Task<LedgerApp> NewLedgerAsync(params (string Key, string Value)[] settings) => NewLedgerAsync(null, settings);

    /// <summary>A Server on a database of its own, with <paramref name="services"/> put in place of its own (a fault to inject).</summary>
    public async Task<LedgerApp> NewLedgerAsync(Action<IServiceCollection>? services, params (string Key, string Value)[] settings)
    {
        var database = "t_" + Guid.NewGuid().ToString("N")[..16];
        await Postgres.CreateDatabaseAsync(database);
        return new LedgerApp(Postgres.ConnectionString(database), settings, services);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>The real Server (Marten, MassTransit in memory, embedded trainer) over a test database.</summary>
public sealed class LedgerApp(string connectionString, (string Key, string Value)[] settings, Action<IServiceCollection>? services = null)
    : WebApplicationFactory<Program>
{
    public string ConnectionString { get; } = connectionString;

    /// <summary>Serves over real HTTP (Kestrel, on <paramref name="port"/> or a free loopback port) and returns the base address.</summary>
    public string StartOnKestrel(int port = 0)
    {
        UseKestrel(port);
        StartServer();
        return Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
    }

    /// <summary>
    /// Runs <paramref name="sql"/> on the ledger's database directly, as someone with the database would (<c>@id</c> is
    /// <paramref name="id"/>), and checks it changed <paramref name="rows"/> rows (any number for -1).
    /// </summary>
    public async Task ExecuteAsync(string sql, Guid id, int rows = 1)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        var changed = await command.ExecuteNonQueryAsync();
        if (rows >= 0) changed.ShouldBe(rows, sql);
    }

    /// <summary>What the Server logged at Warning and above.</summary>
    public LogSink Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Ledger", ConnectionString);
        // A team's Servers on one database share its signing key: every app on this database signs with the same one.
        builder.UseSetting("Ledger:SigningKey", SigningKeys.For(ConnectionString));
        builder.UseSetting("Trainer:ThreadsPerTrial", "1");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning).AddProvider(Logs));
        if (services is not null) builder.ConfigureTestServices(services);
    }
}

/// <summary>
/// Counts what the Server logs (Warning and above), keeping the first messages: a test reads why a report was refused.
/// </summary>
public sealed class LogSink : ILoggerProvider
{
    private const int Kept = 2_000;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> messages = new();
    private int count;

    public IReadOnlyCollection<string> Messages => messages;

    /// <summary>Messages whose first two words are <paramref name="words"/> (all of them for ""), counted past those kept.</summary>
    public int Count(string words) => words.Length == 0 ? count : counts.GetValueOrDefault(words);

    /// <summary>Reports (and messages) the Server refused, whatever their type.</summary>
    public int Refusals => counts.Where(c => c.Key.StartsWith("Refused ", StringComparison.Ordinal)).Sum(c => c.Value);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> counts = new();

    public ILogger CreateLogger(string categoryName) => new Sink(this);

    public void Dispose() { }

    private void Add(string message)
    {
        Interlocked.Increment(ref count);
        var word = message.Split(' ', 3) is { Length: >= 2 } parts ? $"{parts[0]} {parts[1]}" : message;
        counts.AddOrUpdate(word, 1, (_, n) => n + 1);
        if (messages.Count < Kept) messages.Enqueue(message);
    }

    private sealed class Sink(LogSink sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The exception with its stack, where there is one: a test that fails on a logged error says what threw and where.
            if (IsEnabled(logLevel)) sink.Add(exception is null ? formatter(state, exception) : $"{formatter(state, exception)}\n{exception}");
        }
    }
}

/// <summary>A signing key per test database, made once (what a team's configuration gives its Servers).</summary>
public static class SigningKeys
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Keys = new();

    public static string For(string connectionString) => Keys.GetOrAdd(connectionString, _ => New());

    public static string New()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKeyPem();
    }
}

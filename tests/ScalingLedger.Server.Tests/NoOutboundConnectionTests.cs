using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Nothing is sent anywhere the operator did not configure. The real Server process, traced by strace from start through
/// a study it trains, connects to nothing but this machine (its database, its own clients). MassTransit reports its usage
/// only minutes after the bus starts (five by default, thirty seconds at the least), longer than a test should wait, so a
/// second test shortens that delay to its least in a Server in this process and watches every HTTP request it makes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class NoOutboundConnectionTests(PostgresFixture pg)
{
    [Fact]
    public async Task the_server_connects_to_nothing_beyond_this_machine_from_start_through_a_trained_study()
    {
        File.Exists("/usr/bin/strace").ShouldBeTrue("/usr/bin/strace is missing: ./test.sh installs it.");
        var database = "t_" + Guid.NewGuid().ToString("N")[..16];
        await pg.Postgres.CreateDatabaseAsync(database);
        var port = FreePort();
        var trace = Path.Combine(Path.GetTempPath(), $"ledger-connect-{Guid.NewGuid():N}.txt");
        var server = Path.Combine(AppContext.BaseDirectory, "ScalingLedger.Server.dll");
        var start = new ProcessStartInfo("strace", ["-f", "-qq", "-e", "trace=connect", "-o", trace, "dotnet", server, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            Environment =
            {
                ["ConnectionStrings__Ledger"] = pg.Postgres.ConnectionString(database),
                ["Ledger__SigningKey"] = SigningKeys.New(),
                ["Trainer__ThreadsPerTrial"] = "1",
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            },
        };
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (true)
            {
                try
                {
                    if ((await client.GetAsync("/health")).IsSuccessStatusCode) break;
                }
                catch (HttpRequestException) { }
                if (DateTime.UtcNow > deadline || process.HasExited) throw new TimeoutException("The Server did not start.");
                await Task.Delay(250);
            }
            var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(widths: [8], rates: [0.01], steps: 10));
            await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromSeconds(90));
            // MassTransit reported its usage some seconds after the bus started: give it that long, and more.
            await Task.Delay(TimeSpan.FromSeconds(15));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        var connects = (await File.ReadAllLinesAsync(trace)).Where(l => l.Contains("connect(", StringComparison.Ordinal)).ToList();
        File.Delete(trace);
        connects.ShouldNotBeEmpty("strace saw no connection at all: the trace is not of the Server");
        connects.ShouldContain(l => l.Contains($"htons({pg.Postgres.Port})", StringComparison.Ordinal), "the Server's database connection was not traced");
        var outside = connects.Where(l => Address().Match(l) is { Success: true } m && !IPAddress.IsLoopback(IPAddress.Parse(m.Groups[1].Value))).ToList();
        outside.ShouldBeEmpty($"connections beyond this machine:\n{string.Join("\n", outside.Take(20))}");
    }

    [Fact]
    public async Task masstransit_reports_no_usage_even_when_its_delay_is_at_its_shortest()
    {
        var outbound = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var watch = new HttpRequestWatch(uri => { if (!uri.IsLoopback) outbound.Enqueue(uri.ToString()); });
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var shortened = app.WithWebHostBuilder(b => b.ConfigureServices(s =>
            Microsoft.Extensions.DependencyInjection.OptionsServiceCollectionExtensions.Configure<MassTransit.UsageTelemetryOptions>(s,
                o => o.ReportDelay = TimeSpan.FromSeconds(30))));
        var client = shortened.CreateClient();
        await StudyApi.WaitHealthyAsync(client, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(40));
        outbound.ShouldBeEmpty();
    }

    /// <summary>Sees every request any HttpClient of this process starts (System.Net.Http's diagnostic events).</summary>
    private sealed class HttpRequestWatch : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly Action<Uri> seen;
        private readonly List<IDisposable> subscriptions = [];

        public HttpRequestWatch(Action<Uri> seen)
        {
            this.seen = seen;
            subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));
        }

        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == "HttpHandlerDiagnosticListener") lock (subscriptions) subscriptions.Add(listener.Subscribe(this));
        }

        public void OnNext(KeyValuePair<string, object?> e)
        {
            if (e.Key is "System.Net.Http.HttpRequestOut.Start" or "System.Net.Http.Request"
                && e.Value?.GetType().GetProperty("Request")?.GetValue(e.Value) is HttpRequestMessage { RequestUri: { } uri })
                seen(uri);
        }

        public void OnCompleted() { }
        public void OnError(Exception error) { }

        public void Dispose()
        {
            lock (subscriptions) subscriptions.ForEach(s => s.Dispose());
        }
    }

    [GeneratedRegex("sa_family=AF_INET6?, .*?(?:inet_addr\\(\"|inet_pton\\(AF_INET6, \")([^\"]+)\"")]
    private static partial Regex Address();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

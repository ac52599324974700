using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace ScalingLedger.Server.Hosting;

/// <summary>
/// A Server that joins (a start, a failover) is ready once it is warm: right after it starts listening it asks itself for
/// the paths a researcher opens first (the studies, the newest study's API and page, one of its trials), so that the
/// code behind them is compiled and the database's plans are made before anyone waits on them. Until then <c>/health</c>
/// answers 503 <c>warming</c> (a balancer sends nobody). Off with <c>Ledger:Warmup=false</c>; nothing to do in a test
/// host that does not listen.
/// </summary>
public sealed class LedgerWarmup(IServer server, IOptions<LedgerOptions> options, IHostApplicationLifetime lifetime, ILogger<LedgerWarmup> log)
    : IHostedService
{
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(30);
    private volatile bool warm;

    /// <summary>Whether the first requests have been served (or there is no warm-up to wait for).</summary>
    public bool Warm => warm;

    /// <summary>The warm-up's requests that were answered with success (for tests).</summary>
    public int Answered { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Decided before anything is answered, not in the warm-up's own task: a host with no warm-up to do (turned off, or
        // one that does not listen) is ready at once, not after that task happens to run (a loaded machine answered 503).
        if (!options.Value.Warmup) warm = true;
        lifetime.ApplicationStarted.Register(() =>
        {
            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            if (warm || address is null)
            {
                warm = true;
                return;
            }
            _ = Task.Run(() => WarmAsync(address, lifetime.ApplicationStopping));
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WarmAsync(string address, CancellationToken stopping)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            // Its own addresses are loopback, or the Server listens on every address (0.0.0.0, [::], +, *): ask loopback.
            var self = new Uri(address.Replace("://+", "://localhost", StringComparison.Ordinal)
                .Replace("://*", "://localhost", StringComparison.Ordinal)
                .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
                .Replace("://[::]", "://[::1]", StringComparison.Ordinal));
            using var client = new HttpClient { BaseAddress = self, Timeout = PerRequest };
            if (options.Value.AccessControl && options.Value.AdminToken is { Length: > 0 } token)
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var served = 0;
            async Task<string?> Get(string path)
            {
                using var response = await client.GetAsync(path, stopping);
                served++;
                if (!response.IsSuccessStatusCode) return null;
                Answered++;
                return await response.Content.ReadAsStringAsync(stopping);
            }
            var studies = JsonNode.Parse(await Get("/api/studies") ?? "[]") as JsonArray ?? [];
            await Get("/studies");
            if (studies.FirstOrDefault()?["id"]?.GetValue<Guid>() is { } id)
            {
                var study = JsonNode.Parse(await Get($"/api/studies/{id}?checkpoints=last") ?? "{}");
                await Get($"/studies/{id}");
                if (study?["trials"]?.AsArray().FirstOrDefault()?["trialId"]?.GetValue<Guid>() is { } trial)
                    await Get($"/studies/{id}/trials/{trial}");
            }
            log.LogInformation("Warm after {Requests} requests to itself in {Seconds:F1} s: ready", served, clock.Elapsed.TotalSeconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            log.LogWarning("Warming up did not finish ({Error}) after {Seconds:F1} s; ready all the same", ex.Message, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            warm = true;
        }
    }
}

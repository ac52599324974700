using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Cli;
using ScalingLedger.Cli.Reports;
using ScalingLedger.Server.Store;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// What moving a study and drawing its report cost at the study's size (part of <c>ledger</c>): its events exported over
/// HTTP, imported into empty ledgers (each a fresh Server on a fresh database), a sample of its audits there, and
/// <c>ledger report</c>'s figures. First run and median of three, side by side with the study's event count.
/// </summary>
internal static class TransferBenchmark
{
    private const int Runs = 3;
    private const int AuditSample = 10;

    public static async Task RunAsync(EmbeddedPostgres pg, WebApplication source, Guid id, int events, int trials,
        Func<string, Task<WebApplication>> startServer)
    {
        using var client = Client(source);
        var exports = new List<double>();
        byte[] export = [];
        for (var i = 0; i < Runs; i++)
        {
            var clock = Stopwatch.StartNew();
            export = await client.GetByteArrayAsync($"/api/studies/{id}/export");
            exports.Add(clock.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"   export ({events:N0} events, {export.Length / 1048576.0:F1} MiB): " +
            $"first {exports[0]:F0} ms, median of {Runs} {Median(exports):F0} ms");

        var imports = new List<double>();
        var verified = 0;
        for (var i = 0; i < Runs; i++)
        {
            var database = $"move_{trials}_{i}_{Guid.NewGuid():N}"[..24];
            await pg.CreateDatabaseAsync(database);
            await using var target = await startServer(pg.ConnectionString(database));
            using var to = Client(target);
            var body = new ByteArrayContent(export);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var clock = Stopwatch.StartNew();
            (await to.PostAsync("/api/studies/import-events", body)).EnsureSuccessStatusCode();
            imports.Add(clock.Elapsed.TotalMilliseconds);
            if (i > 0) continue;
            var study = JsonNode.Parse(await to.GetStringAsync($"/api/studies/{id}?checkpoints=none"))!;
            foreach (var p in study["predictions"]!.AsArray().Take(AuditSample))
                if (JsonNode.Parse(await to.GetStringAsync($"/api/predictions/{p!["id"]}"))!["verified"]!.GetValue<bool>()) verified++;
            var chain = JsonNode.Parse(await to.GetStringAsync($"/api/studies/{id}/verify"))!;
            Console.WriteLine($"   in the empty ledger: chain {(chain["intact"]!.GetValue<bool>() ? "intact" : "BROKEN")}, " +
                $"{verified} of {Math.Min(AuditSample, study["predictions"]!.AsArray().Count)} sampled audits verified");
        }
        Console.WriteLine($"   import-events into an empty ledger: first {imports[0]:F0} ms, median of {Runs} {Median(imports):F0} ms " +
            $"({events / (Median(imports) / 1000):N0} events/s)");

        var options = new CliContext { Out = TextWriter.Null, Err = TextWriter.Null };
        var reports = new List<double>();
        var directory = Path.Combine(Path.GetTempPath(), $"report-bench-{Guid.NewGuid():N}");
        var figures = 0;
        for (var i = 0; i < Runs; i++)
        {
            var clock = Stopwatch.StartNew();
            var exit = await LedgerCli.RunAsync(["report", id.ToString(), "--out", directory, "--url", client.BaseAddress!.ToString()], options);
            reports.Add(clock.Elapsed.TotalMilliseconds);
            if (exit != ExitCodes.Ok) throw new InvalidOperationException($"ledger report exited {exit}");
            figures = Directory.GetFiles(directory, "*.png").Length;
        }
        Directory.Delete(directory, true);
        Console.WriteLine($"   ledger report ({figures} figures, PNG and SVG, and the markdown): " +
            $"first {reports[0]:F0} ms, median of {Runs} {Median(reports):F0} ms");
    }

    private static HttpClient Client(WebApplication app) => new()
    {
        BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
        Timeout = TimeSpan.FromMinutes(10),
    };

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}

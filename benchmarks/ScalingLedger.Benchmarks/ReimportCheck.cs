using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Server.Store;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// An exported study (<c>ledger export --format events</c>) brought into an empty ledger (a fresh Server on a fresh database):
/// imported, its chain verified, and every prediction's audit (or the first N) re-derived there. Prints what held and exits 1
/// when the import, the chain or an audit did not. Usage: reimport EXPORT.json [--audits N]
/// </summary>
internal static class ReimportCheck
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("Usage: reimport EXPORT.json [--audits N] (an export of ledger export --format events)");
            return 2;
        }
        var limit = args.Length > 2 && args[1] == "--audits" ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : int.MaxValue;
        var export = await File.ReadAllBytesAsync(args[0]);
        var id = JsonNode.Parse(export)!["studyId"]!.GetValue<Guid>();
        var dir = Path.Combine(Path.GetTempPath(), $"ledger-reimport-{Environment.ProcessId}");
        await using var pg = await EmbeddedPostgres.StartAsync(Path.Combine(dir, "pg"), "postgres", _ => { });
        try
        {
            await pg.CreateDatabaseAsync("reimport");
            await using var app = await LedgerBenchmark.StartServerAsync(pg.ConnectionString("reimport"), recording: null);
            using var client = new HttpClient
            {
                BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
                Timeout = TimeSpan.FromMinutes(10),
            };
            var body = new ByteArrayContent(export);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var clock = Stopwatch.StartNew();
            var imported = await client.PostAsync("/api/studies/import-events", body);
            Console.WriteLine($"import-events of {Path.GetFileName(args[0])} ({export.Length / 1048576.0:F1} MiB): {(int)imported.StatusCode} " +
                $"in {clock.Elapsed.TotalSeconds:F1} s");
            if (!imported.IsSuccessStatusCode)
            {
                Console.WriteLine(await imported.Content.ReadAsStringAsync());
                return 1;
            }
            var chain = JsonNode.Parse(await client.GetStringAsync($"/api/studies/{id}/verify"))!;
            var intact = chain["intact"]!.GetValue<bool>();
            Console.WriteLine($"verify: {(intact ? "intact" : "NOT intact")}, {chain["events"]} events");
            var study = JsonNode.Parse(await client.GetStringAsync($"/api/studies/{id}?checkpoints=none"))!;
            var predictions = study["predictions"]!.AsArray().Select(p => p!["id"]!.GetValue<Guid>()).Take(limit).ToList();
            var failed = new List<string>();
            clock.Restart();
            for (var i = 0; i < predictions.Count; i++)
            {
                var audit = JsonNode.Parse(await client.GetStringAsync($"/api/predictions/{predictions[i]}"))!;
                if (!audit["verified"]!.GetValue<bool>()) failed.Add($"{predictions[i]}: {audit["differences"]?.ToJsonString()}");
                if ((i + 1) % 50 == 0) Console.Error.WriteLine($"  {i + 1}/{predictions.Count} audits, {failed.Count} not verified");
            }
            Console.WriteLine($"audits: {predictions.Count - failed.Count} of {predictions.Count} predictions verified " +
                $"({clock.Elapsed.TotalSeconds:F0} s)");
            foreach (var f in failed.Take(20)) Console.WriteLine($"  not verified: {f}");
            return intact && failed.Count == 0 ? 0 : 1;
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

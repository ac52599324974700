using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using JasperFx.Events;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.Intake;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Store;
using ScalingLedger.Server.Studies;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// The whole ledger path at the scale users work at, on real recorded losses: the real Server (Marten on an embedded
/// PostgreSQL, MassTransit in memory, the reactor) with a simulated trainer that replays a recording of real trials as
/// fast as the transport takes them. Each figure is a ratio measured side by side in this one run where it can be.
/// </summary>
internal static class LedgerBenchmark
{
    private const int ReportBufferSize = ScalingLedger.Trainer.Worker.ReportBuffer.MaxCheckpoints;
    private static readonly string DefaultRecording = Path.Combine(AppContext.BaseDirectory, "recordings", "tiny-432.json");

    public static async Task<int> RunAsync(string[] args)
    {
        var recordingPath = DefaultRecording;
        var sizes = new List<int>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--recording") recordingPath = args[++i];
            else sizes.AddRange(args[i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)));
        }
        if (sizes.Count == 0) sizes = [432, 4320];
        var recording = TrialRecording.Load(recordingPath);
        Console.WriteLine($"Recording: {recording.Source}");
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores; each figure is from this one run.");

        var dir = Path.Combine(Path.GetTempPath(), $"ledger-bench-{Environment.ProcessId}");
        await using var pg = await EmbeddedPostgres.StartAsync(Path.Combine(dir, "pg"), "postgres", _ => { });
        try
        {
            foreach (var trials in sizes) await RunOneAsync(pg, recording, recordingPath, trials);
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return 0;
    }

    private static async Task RunOneAsync(EmbeddedPostgres pg, TrialRecording recording, string recordingPath, int trials)
    {
        var widths = recording.Trials.Select(t => t.Width).Distinct().Order().ToList();
        var rates = recording.Trials.Select(t => t.LearningRate).Distinct().Order().ToList();
        var seeds = Math.Max(1, trials / (widths.Count * rates.Count));
        var checkpoints = recording.Trials.Max(t => t.Checkpoints.Count);
        var database = $"bench_{trials}_{Guid.NewGuid():N}"[..24];
        await pg.CreateDatabaseAsync(database);
        var connection = pg.ConnectionString(database);

        Console.WriteLine();
        Console.WriteLine($"== {widths.Count * rates.Count * seeds} trials ({widths.Count} widths x {rates.Count} rates x {seeds} seeds), " +
            $"{checkpoints} checkpoints a trial, replayed as fast as the transport takes them");
        await using var app = await StartServerAsync(connection, recordingPath);
        var client = new HttpClient
        {
            BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First())
        };
        var spec = Spec(recording, trials);
        var clock = Stopwatch.StartNew();
        var response = await client.PostAsJsonAsync("/api/studies", spec);
        response.EnsureSuccessStatusCode();
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
        var store = app.Services.GetRequiredService<IDocumentStore>();
        var queries = app.Services.GetRequiredService<LedgerQueries>();
        var lastProgress = TimeSpan.Zero;
        while (true)
        {
            await Task.Delay(500);
            var summary = await queries.GetSummaryAsync(id);
            if (summary?.Status != Domain.Studies.StudyStatus.Running) break;
            if (clock.Elapsed - lastProgress > TimeSpan.FromSeconds(30))
            {
                lastProgress = clock.Elapsed;
                await using var s = store.QuerySession();
                var counts = (await StudyDocuments.CountsAsync(s, [id], default)).GetValueOrDefault(id) ?? [];
                Console.WriteLine($"   {clock.Elapsed.TotalSeconds,6:F0} s: " +
                    $"{counts.Where(c => c.Key is not (Domain.Studies.TrialStatus.Scheduled or Domain.Studies.TrialStatus.Running)).Sum(c => c.Value)}" +
                    " trials ended");
            }
        }
        var wall = clock.Elapsed;

        IReadOnlyList<IEvent> events;
        await using (var session = store.QuerySession())
            events = await StudyDocuments.EventsAsync(session, id, null, default);
        Console.WriteLine($"   completed in {wall.TotalSeconds:F1} s: {events.Count:N0} events " +
            $"({events.Count(e => e.Data is LossCheckpointRecorded):N0} checkpoints, {events.Count(e => e.Data is LawFitted):N0} fits, " +
            $"{events.Count(e => e.Data is PredictionIssued):N0} predictions)");

        // Nothing lost on the way: every planned trial started and ended once, with every checkpoint its recorded trial has
        // up to its end (a report taken out of order, an end before its checkpoints, would drop them).
        var planned = ((StudyDefined)events[0].Data).Trials;
        var expected = planned.Sum(t =>
            ReplayRunner.Nearest(recording, GridPlanner.ToCommand(id, ((StudyDefined)events[0].Data).Spec, t, 1)).Checkpoints.Count);
        var starts = events.Count(e => e.Data is TrialStarted);
        var ends = events.Count(e => e.Data is TrialCompleted or TrialDiverged or TrialFailed or TrialCancelled);
        var recorded = events.Count(e => e.Data is LossCheckpointRecorded);
        Console.WriteLine($"   recorded: {starts:N0} of {planned.Count:N0} starts, {ends:N0} ends, {recorded:N0} of {expected:N0} checkpoints" +
            (starts == planned.Count && ends == planned.Count && recorded == expected ? " (nothing lost)" : " -- REPORTS WERE LOST"));
        var (waited, timedOut) = app.Services.GetRequiredService<RunStarts>().Counts;
        Console.WriteLine($"   reports taken before their run's start: {waited:N0} waited for it in the Server, {timedOut:N0} of them went to the retry");
        var (groups, grouped) = app.Services.GetRequiredService<StudyWriter>().Grouped;
        Console.WriteLine($"   the writer appended {grouped:N0} reports in {groups:N0} groups ({grouped / (double)Math.Max(1, groups):F1} a group)");
        ReportLatency(events);
        await IngestAgainstRawAsync(pg, events, trials);
        RefitLag(events);
        await ReadsAsync(app, store, id, events);
        await TransferBenchmark.RunAsync(pg, app, id, events.Count, trials, target => StartServerAsync(target, recordingPath));
    }

    /// <summary>A study of the recording's grid (its widths and rates) with enough seeds for about <paramref name="trials"/> trials.</summary>
    internal static JsonObject Spec(TrialRecording recording, int trials)
    {
        var widths = recording.Trials.Select(t => t.Width).Distinct().Order().ToList();
        var rates = recording.Trials.Select(t => t.LearningRate).Distinct().Order().ToList();
        var seeds = Math.Max(1, trials / (widths.Count * rates.Count));
        return new JsonObject
        {
            ["name"] = $"replay-{trials}", ["owner"] = "benchmark", ["dataset"] = "fashion-mnist",
            ["model"] = new JsonObject
            {
                ["family"] = "mlp", ["hiddenLayers"] = 3, ["widths"] = new JsonArray(widths.Select(w => (JsonNode)w).ToArray()),
                ["parameterization"] = "standard"
            },
            ["optimizer"] = new JsonObject { ["name"] = "adam", ["learningRates"] = new JsonArray(rates.Select(r => (JsonNode)r).ToArray()) },
            ["seeds"] = new JsonArray(Enumerable.Range(0, seeds).Select(s => (JsonNode)s).ToArray()),
            ["steps"] = recording.Trials.Max(t => t.Checkpoints.Count), ["batchSize"] = 32, ["evalEvery"] = 1, ["targetWidths"] = new JsonArray(64, 256),
        };
    }

    /// <summary>A Server (API only) on <paramref name="connection"/> whose trainer replays <paramref name="recording"/>; none when null.</summary>
    internal static async Task<WebApplication> StartServerAsync(string connection, string? recording)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Production" });
        builder.Configuration["ConnectionStrings:Ledger"] = connection;
        builder.Configuration["Ledger:SigningKey"] = BrowserBenchmark.SigningKey;
        if (recording is null) builder.Configuration["Ledger:EmbeddedTrainer"] = "false";
        else builder.Configuration["Trainer:Replay"] = recording;
        builder.Configuration["Logging:LogLevel:Default"] = "Warning";
        builder.Configuration["Logging:LogLevel:Marten"] = "Critical";
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddLedger();
        var app = builder.Build();
        app.MapLedger(site: false);
        await app.StartAsync();
        return app;
    }

    /// <summary>From a report's sending (its own timestamp) to its event's append, early in the study against late.</summary>
    private static void ReportLatency(IReadOnlyList<IEvent> events)
    {
        var latencies = events.Where(e => e.Data is LossCheckpointRecorded)
            .Select(e => (e.Timestamp - ((LossCheckpointRecorded)e.Data).RecordedAt).TotalMilliseconds).ToList();
        var tenth = Math.Max(1, latencies.Count / 10);
        var early = latencies.Take(tenth).ToList();
        var late = latencies.TakeLast(tenth).ToList();
        // Append cost alone: the time between consecutive report transactions while the consumer is busy (queueing
        // excluded; the events of one transaction share its timestamp), per event of the transaction (the writer appends the
        // reports that arrive together in one transaction).
        var appends = events.Where(e => e.Data is TrialStarted or LossCheckpointRecorded or TrialCompleted or TrialDiverged)
            .GroupBy(e => e.Timestamp).Select(g => (Timestamp: g.Key, Events: g.Count())).OrderBy(a => a.Timestamp).ToList();
        var costs = appends.Zip(appends.Skip(1), (a, b) => (b.Timestamp - a.Timestamp).TotalMilliseconds / b.Events).ToList();
        var transactions = Math.Max(1, costs.Count / 10);
        var earlyCost = Median(costs.Take(transactions).ToList());
        var lateCost = Median(costs.TakeLast(transactions).ToList());
        Console.WriteLine($"   per-report cost (time between appends / reports in the append), " +
            $"{appends.Count:N0} appends of {appends.Average(a => a.Events):F1} reports on average: " +
            $"first 10% median {earlyCost:F2} ms, last 10% {lateCost:F2} ms -> late/early {lateCost / earlyCost:F2}");
        Console.WriteLine($"   per-report latency (sent -> appended, queueing included): " +
            $"first 10% median {Median(early):F0} ms, last 10% {Median(late):F0} ms");
    }

    /// <summary>
    /// The same events appended by bare Marten (no projections, no decisions) in the same transactions as the path's:
    /// a trial's checkpoints gathered as the trainer sends them (up to 64), every other report alone.
    /// </summary>
    private static async Task IngestAgainstRawAsync(EmbeddedPostgres pg, IReadOnlyList<IEvent> events, int trials)
    {
        var reports = events.Where(e => e.Data is TrialStarted or LossCheckpointRecorded or TrialCompleted or TrialDiverged).ToList();
        var first = reports[0].Timestamp;
        var last = reports[^1].Timestamp;
        var pathRate = reports.Count / (last - first).TotalSeconds;

        var database = $"raw_{trials}_{Guid.NewGuid():N}"[..24];
        await pg.CreateDatabaseAsync(database);
        var sample = reports.Take(Math.Min(reports.Count, 20_000)).Select(e => e.Data).ToList();
        var (rawRate, transactions) = await RawAppendsAsync(pg.ConnectionString(database), sample);
        Console.WriteLine($"   ingest through the whole path: {pathRate:F0} reports/s; raw Marten appends of the same {sample.Count:N0} events " +
            $"in the same {transactions:N0} transactions: {rawRate:F0}/s -> path/raw {pathRate / rawRate:P0}");
    }

    /// <summary>Appends reports with bare Marten into an empty database, as trainers send them: a trial's checkpoints together (up to 64).</summary>
    internal static async Task<double> RawAppendRateAsync(string connection, IReadOnlyList<object> reports) =>
        (await RawAppendsAsync(connection, reports)).Rate;

    private static async Task<(double Rate, int Transactions)> RawAppendsAsync(string connection, IReadOnlyList<object> reports)
    {
        await using var raw = DocumentStore.For(o =>
        {
            o.Connection(connection);
            o.DatabaseSchemaName = "raw";
            o.Events.StreamIdentity = StreamIdentity.AsGuid;
            o.Events.AppendMode = EventAppendMode.Rich;
        });
        await raw.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var stream = Guid.NewGuid();
        await using (var session = raw.LightweightSession())
        {
            session.Events.StartStream(stream, new StudyCancelled(stream, "benchmark", null, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }
        var transactions = new List<List<object>>();
        foreach (var e in reports)
        {
            if (e is LossCheckpointRecorded c && transactions.Count > 0 && transactions[^1] is { Count: < ReportBufferSize } open
                && open[0] is LossCheckpointRecorded head && head.TrialId == c.TrialId)
                open.Add(c);
            else transactions.Add([e]);
        }
        var clock = Stopwatch.StartNew();
        foreach (var transaction in transactions)
        {
            await using var session = raw.LightweightSession();
            session.Events.Append(stream, transaction);
            await session.SaveChangesAsync();
        }
        return (reports.Count / clock.Elapsed.TotalSeconds, transactions.Count);
    }

    /// <summary>From a trial's end to the first fit appended whose evidence includes it.</summary>
    private static void RefitLag(IReadOnlyList<IEvent> events)
    {
        var fits = events.Where(e => e.Data is LawFitted).Select(e => (Evidence: ((LawFitted)e.Data).EvidenceSequence, e.Timestamp)).ToList();
        var lags = new List<double>();
        foreach (var end in events.Where(e => e.Data is TrialCompleted or TrialDiverged))
        {
            var fit = fits.FirstOrDefault(f => f.Evidence >= end.Sequence);
            if (fit != default) lags.Add((fit.Timestamp - end.Timestamp).TotalSeconds);
        }
        lags.Sort();
        if (lags.Count == 0) return;
        Console.WriteLine($"   refit lag (trial end -> a fit that includes it appended) over {lags.Count} ended trials: " +
            $"median {Median(lags):F2} s, p95 {lags[(int)(0.95 * (lags.Count - 1))]:F2} s, max {lags[^1]:F2} s");
    }

    private static async Task ReadsAsync(WebApplication app, IDocumentStore store, Guid id, IReadOnlyList<IEvent> events)
    {
        var queries = app.Services.GetRequiredService<LedgerQueries>();
        var page = await Best(5, () => queries.GetStudyAsync(id));
        Console.WriteLine($"   study page data ({events.Count(e => e.Data is TrialStarted):N0} trial starts, " +
            $"summary + trials with their last checkpoint + laws + predictions): best of 5 {page:F0} ms");

        var n = Math.Min(50_000, events.Count);
        // A study recorded here: its history's sequences are this ledger's positions.
        var asOf = events[n - 1].Sequence;
        var folded = await Best(3, () => queries.GetStudyAsync(id, new RecordedSequence(asOf)));
        var raw = await Best(3, async () =>
        {
            await using var session = store.QuerySession();
            return await StudyDocuments.EventsAsync(session, id, new LedgerPosition(asOf), default);
        });
        Console.WriteLine($"   asOf at the study's {n:N0}th event: fold {folded:F0} ms, reading the same {n:N0} events raw {raw:F0} ms -> {folded / raw:F2}x");
    }

    private static async Task<double> Best<T>(int times, Func<Task<T>> read)
    {
        var best = double.MaxValue;
        for (var i = 0; i < times; i++)
        {
            var clock = Stopwatch.StartNew();
            await read();
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
        }
        return best;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// Load over the real broker: the team topology as processes (scripts/team.sh: PostgreSQL, RabbitMQ, two Servers) with
/// simulated trainers, each its own process, replaying a recording of real trials as fast as the broker takes them into a
/// study of the recording's grid. After the window the trainers are stopped and the ledger is checked: nothing lost (every
/// ended trial has its whole recorded curve for the attempt that counts), nothing duplicated (one terminal event per trial,
/// one checkpoint per trial, attempt and step). Then the same reports are appended by bare Marten, in the same run, into
/// another database of the same PostgreSQL. Exit 1 when anything was lost or duplicated.
/// </summary>
internal static class TeamLoadBenchmark
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> Reports = new()
    {
        [nameof(TrialStarted)] = typeof(TrialStarted), [nameof(LossCheckpointRecorded)] = typeof(LossCheckpointRecorded),
        [nameof(TrialCompleted)] = typeof(TrialCompleted), [nameof(TrialDiverged)] = typeof(TrialDiverged),
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var trials = 432;
        var seconds = 60;
        var trainers = 8;
        var servers = 2;
        var recordingPath = Path.Combine(AppContext.BaseDirectory, "recordings", "tiny-432.json");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds": seconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--trainers": trainers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--servers": servers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--recording": recordingPath = Path.GetFullPath(args[++i]); break;
                default: trials = int.Parse(args[i], CultureInfo.InvariantCulture); break;
            }
        }
        var recording = TrialRecording.Load(recordingPath);
        var team = new Team(servers, trainers, recordingPath);
        Console.WriteLine($"Recording: {recording.Source}");
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores; {servers} Server(s), {trainers} replaying trainers, RabbitMQ and PostgreSQL, " +
                          "each its own process; every figure is from this one run.");
        try
        {
            await team.StartAsync();
            return await RunOneAsync(team, recording, trials, seconds);
        }
        finally
        {
            await team.StopAsync();
        }
    }

    private static async Task<int> RunOneAsync(Team team, TrialRecording recording, int trials, int seconds)
    {
        using var client = new HttpClient { BaseAddress = new Uri(team.Server(1)), Timeout = TimeSpan.FromMinutes(2) };
        var response = await client.PostAsJsonAsync("/api/studies", LedgerBenchmark.Spec(recording, trials));
        response.EnsureSuccessStatusCode();
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
        var defined = DateTimeOffset.UtcNow;
        Console.WriteLine();
        Console.WriteLine($"== a study of {trials:N0} trials, reports for {seconds} s");

        // The Servers' memory, every 5 s through the window: flat, not growing with what was recorded.
        var memory = Enumerable.Range(1, team.Servers).ToDictionary(n => $"server-{n}", _ => new List<long>());
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            foreach (var (server, samples) in memory) samples.Add(team.RssMegabytes(server));
        }
        for (var i = 1; i <= team.Trainers; i++) await team.RunAsync("term", $"trainer-{i}");
        // Let the Servers take what the broker still holds.
        await team.DrainAsync("trial-reports", TimeSpan.FromMinutes(5));

        var events = await ReadEventsAsync(client, id);
        var spec = ((StudyDefined)events[0].Data).Spec;
        var planned = ((StudyDefined)events[0].Data).Trials.ToDictionary(t => t.TrialId);
        var reports = events.Where(e => Reports.ContainsValue(e.Data.GetType())).ToList();
        var window = reports.Where(e => e.Timestamp <= defined.AddSeconds(seconds)).ToList();
        var pathRate = window.Count / (window[^1].Timestamp - window[0].Timestamp).TotalSeconds;

        // Lost or duplicated?
        var ends = events.Where(e => e.Data is ITrialEnd).GroupBy(e => ((ITrialEnd)e.Data).TrialId).ToList();
        var twiceEnded = ends.Count(g => g.Count() > 1);
        var checkpoints = events.Select(e => e.Data).OfType<LossCheckpointRecorded>().ToList();
        var twice = checkpoints.GroupBy(c => (c.TrialId, c.Attempt, c.Step)).Count(g => g.Count() > 1);
        var incomplete = 0;
        foreach (var end in ends.Where(g => g.First().Data is TrialCompleted or TrialDiverged))
        {
            var trialId = end.Key;
            var attempt = events.Select(e => e.Data).OfType<TrialStarted>().Where(s => s.TrialId == trialId).Max(s => s.Attempt);
            var expected = ReplayRunner.Nearest(recording, GridPlanner.ToCommand(id, spec, planned[trialId], 1)).Checkpoints
                .Select(c => (int)c[0]).Where(step => end.First().Data is not TrialDiverged d || step <= d.Step).ToHashSet();
            var got = checkpoints.Where(c => c.TrialId == trialId && c.Attempt == attempt).Select(c => c.Step).ToHashSet();
            if (!expected.IsSubsetOf(got)) incomplete++;
        }
        var starts = events.Count(e => e.Data is TrialStarted);
        Console.WriteLine($"   recorded: {reports.Count:N0} reports ({starts:N0} starts, {checkpoints.Count:N0} checkpoints, {ends.Count:N0} trials ended); " +
                          $"{incomplete} ended trial(s) missing a checkpoint, {twiceEnded} ended twice, {twice} checkpoint(s) twice" +
                          (incomplete + twiceEnded + twice == 0 ? " (nothing lost, nothing duplicated)" : " -- LOST OR DUPLICATED"));

        var rawRate = await RawAppendRateAsync(team.LedgerConnection, window.Select(e => e.Data).ToList());
        Console.WriteLine($"   through the whole path (trainer processes -> RabbitMQ -> {team.Servers} Server(s) -> PostgreSQL): {pathRate:F0} reports/s " +
                          "over the " +
                          $"{seconds} s window; bare Marten appends of the same {window.Count:N0} reports: {rawRate:F0}/s -> " +
                          $"path/bare {pathRate / rawRate:P0}");
        foreach (var (server, samples) in memory)
            Console.WriteLine($"   {server} memory (RSS, every 5 s): {string.Join(", ", samples)} MB");
        return incomplete + twiceEnded + twice == 0 ? 0 : 1;
    }

    private sealed record Recorded(long Sequence, DateTimeOffset Timestamp, object Data);

    /// <summary>Every event of the study through the API, page by page, with the reports and ends as their types.</summary>
    private static async Task<IReadOnlyList<Recorded>> ReadEventsAsync(HttpClient client, Guid id)
    {
        var all = new List<Recorded>();
        long after = 0;
        while (true)
        {
            var page = JsonNode.Parse(await client.GetStringAsync($"/api/studies/{id}/events?after={after}&limit=10000"))!.AsArray();
            foreach (var e in page)
            {
                var type = e!["type"]!.GetValue<string>();
                var data = type switch
                {
                    nameof(StudyDefined) => e["data"].Deserialize<StudyDefined>(Web)!,
                    nameof(TrialFailed) => e["data"].Deserialize<TrialFailed>(Web)!,
                    nameof(TrialCancelled) => e["data"].Deserialize<TrialCancelled>(Web)!,
                    _ when Reports.TryGetValue(type, out var t) => e["data"].Deserialize(t, Web)!,
                    _ => (object)type,
                };
                all.Add(new Recorded(e["sequence"]!.GetValue<long>(), e["timestamp"]!.GetValue<DateTimeOffset>(), data));
            }
            if (page.Count < 10_000) return all;
            after = all[^1].Sequence;
        }
    }

    /// <summary>The same reports appended by bare Marten into a database of their own: a trial's checkpoints as its trainer sends them.</summary>
    private static async Task<double> RawAppendRateAsync(string ledgerConnection, IReadOnlyList<object> reports)
    {
        var database = $"bare_{Guid.NewGuid():N}"[..20];
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ledgerConnection) { Database = "postgres" }.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {database}", admin);
            await create.ExecuteNonQueryAsync();
        }
        return await LedgerBenchmark.RawAppendRateAsync(new NpgsqlConnectionStringBuilder(ledgerConnection) { Database = database }.ConnectionString, reports);
    }

    /// <summary>scripts/team.sh, run from the repository this benchmark was built in.</summary>
    private sealed class Team(int servers, int trainers, string recording)
    {
        private static readonly string Root = FindRoot();
        private readonly string directory = Path.Combine(Path.GetTempPath(), $"sl-load-{Guid.NewGuid():N}"[..18]);

        public int Trainers => trainers;

        public int Servers => servers;

        public string LedgerConnection => Setting("LEDGER_DB");

        public string Server(int n) => $"http://127.0.0.1:{Setting($"SERVER_{n}_PORT")}";

        public async Task StartAsync()
        {
            var output = await RunAsync("start", "--servers", servers.ToString(CultureInfo.InvariantCulture), "--trainers",
                trainers.ToString(CultureInfo.InvariantCulture), "--no-build");
            if (!File.Exists(Path.Combine(directory, "team.env"))) throw new InvalidOperationException($"scripts/team.sh start failed:\n{output}");
        }

        public Task StopAsync() => RunAsync("stop");

        public long RssMegabytes(string member)
        {
            var pid = File.ReadAllText(Path.Combine(directory, member + ".pid")).Trim();
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }

        /// <summary>Waits until the queue is empty (its messages taken and acknowledged).</summary>
        public async Task DrainAsync(string queue, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                var line = (await RunAsync("queues")).Split('\n').FirstOrDefault(l => l.StartsWith(queue + "\t", StringComparison.Ordinal));
                if (line is not null && line.EndsWith("\t0", StringComparison.Ordinal)) return;
                await Task.Delay(1000);
            }
        }

        private string Setting(string key) => File.ReadAllLines(Path.Combine(directory, "team.env"))
            .Select(l => l.Split('=', 2)).First(f => f[0] == key)[1].Trim('\'');

        public async Task<string> RunAsync(params string[] args)
        {
            var psi = new ProcessStartInfo(Path.Combine(Root, "scripts", "team.sh")) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args.Append("--dir").Append(directory)) psi.ArgumentList.Add(a);
            psi.Environment["Trainer__Replay"] = recording;
            psi.Environment["Trainer__AcknowledgementGraceMilliseconds"] = "0"; // replays never crash their trainer
            psi.Environment["Ledger__TrialLeaseSeconds"] = "120";
            psi.Environment["Logging__LogLevel__Default"] = "Warning";
            psi.Environment["Logging__LogLevel__Marten"] = "Critical";
            psi.Environment["CONFIGURATION"] = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return await stdout + await stderr;
        }

        private static string FindRoot()
        {
            for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
                if (File.Exists(Path.Combine(dir, "ScalingLedger.sln"))) return dir;
            throw new InvalidOperationException("ScalingLedger.sln not found above " + AppContext.BaseDirectory);
        }
    }
}

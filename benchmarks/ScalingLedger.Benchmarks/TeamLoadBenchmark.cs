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
/// another database of the same PostgreSQL. Exit 1 when anything was lost or duplicated. Each member's CPU time in the window
/// is printed per report, beside bare Marten's: where the two cores go.
/// With <c>--backlog</c> the trainers replay the whole study into the broker while no Server runs; then the Servers start
/// and take it: the path from the broker on, with no trainer on these cores (as when they run on other machines), and the
/// first load after a start included.
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
        var backlog = false;
        var recordingPath = Path.Combine(AppContext.BaseDirectory, "recordings", "tiny-432.json");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds": seconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--trainers": trainers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--servers": servers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--recording": recordingPath = Path.GetFullPath(args[++i]); break;
                case "--backlog": backlog = true; break;
                default: trials = int.Parse(args[i], CultureInfo.InvariantCulture); break;
            }
        }
        var recording = TrialRecording.Load(recordingPath);
        var team = new Team(servers, trainers, recordingPath, backlog);
        Console.WriteLine($"Recording: {recording.Source}");
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores; {servers} Server(s), {trainers} replaying trainers, RabbitMQ and PostgreSQL, " +
                          "each its own process; every figure is from this one run.");
        try
        {
            await team.StartAsync();
            return await RunOneAsync(team, recording, trials, seconds, backlog);
        }
        finally
        {
            await team.StopAsync();
        }
    }

    private static async Task<int> RunOneAsync(Team team, TrialRecording recording, int trials, int seconds, bool backlog)
    {
        using var client = new HttpClient
        {
            BaseAddress = new Uri(team.Server(1)), Timeout = TimeSpan.FromMinutes(2),
            DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", team.AdminToken) },
        };
        var response = await client.PostAsJsonAsync("/api/studies", LedgerBenchmark.Spec(recording, trials));
        response.EnsureSuccessStatusCode();
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
        var defined = DateTimeOffset.UtcNow;
        Console.WriteLine();
        Console.WriteLine(backlog
            ? $"== a study of {trials:N0} trials, its reports first queued in the broker with the Servers stopped, " +
              $"then taken by {team.Servers} Server(s) started on them"
            : $"== a study of {trials:N0} trials, reports for {seconds} s");
        if (backlog)
        {
            await FillBacklogAsync(team, trials);
            defined = DateTimeOffset.UtcNow;
        }

        // The Servers' memory, every 5 s through the window: flat, not growing with what was recorded.
        var memory = Enumerable.Range(1, team.Servers).ToDictionary(n => $"server-{n}", _ => new List<long>());
        // Where the two cores go in the window: each member's CPU time (its process and every process under it).
        var members = team.Members();
        var cpuBefore = members.ToDictionary(m => m, team.CpuSeconds);
        var machineBefore = Cpu.Machine();
        var clock = Stopwatch.StartNew();
        // Each member's CPU every second of the window, to tell the span the reports came in from the refits after it.
        var cpuSamples = new List<(DateTimeOffset At, Dictionary<string, double> Cpu)>();
        if (backlog)
        {
            // The window is the Servers' start (the first load after a start included) and their taking of the whole backlog.
            for (var i = 1; i <= team.Servers; i++) await team.RunAsync("up", $"server-{i}");
            while (!await team.EmptyAsync(Queues.TrialReports))
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
                foreach (var (server, samples) in memory) samples.Add(team.RssMegabytes(server));
                if (clock.Elapsed > TimeSpan.FromMinutes(20)) throw new TimeoutException("the Servers did not take the backlog within 20 min");
            }
            seconds = (int)Math.Ceiling(clock.Elapsed.TotalSeconds);
            Console.WriteLine($"   the Servers started and took the backlog in {clock.Elapsed.TotalSeconds:F1} s");
        }
        else
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                cpuSamples.Add((DateTimeOffset.UtcNow, members.ToDictionary(m => m, m => team.CpuSeconds(m) - cpuBefore[m])));
                if (cpuSamples.Count % 5 == 0)
                    foreach (var (server, samples) in memory) samples.Add(team.RssMegabytes(server));
            }
        }
        var cpu = members.ToDictionary(m => m, m => team.CpuSeconds(m) - cpuBefore[m]);
        var (busy, all) = Cpu.Machine();
        var machineBusy = (busy - machineBefore.Busy) / (all - machineBefore.All);
        for (var i = 1; i <= team.Trainers; i++) await team.RunAsync("term", $"trainer-{i}");
        // Let the Servers take what the broker still holds.
        await team.DrainAsync(Queues.TrialReports, TimeSpan.FromMinutes(5));

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

        var (databaseBefore, selfBefore) = (team.CpuSeconds("database"), Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
        var rawRate = await RawAppendRateAsync(team.LedgerConnection, window.Select(e => e.Data).ToList());
        var bareDatabase = team.CpuSeconds("database") - databaseBefore;
        var bareClient = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - selfBefore;
        Console.WriteLine($"   through the whole path (trainer processes -> RabbitMQ -> {team.Servers} Server(s) -> PostgreSQL): {pathRate:F0} reports/s " +
                          "over the " +
                          $"{seconds} s window; bare Marten appends of the same {window.Count:N0} reports: {rawRate:F0}/s -> " +
                          $"path/bare {pathRate / rawRate:P0}");
        // The events of one transaction share its timestamp (the database's clock at the commit's start).
        var transactions = window.Select(e => e.Timestamp).Distinct().Count();
        Console.WriteLine($"   appended in {transactions:N0} transactions: {(double)window.Count / transactions:F1} reports a transaction");
        foreach (var (server, samples) in memory)
            Console.WriteLine($"   {server} memory (RSS, every 5 s): {string.Join(", ", samples)} MB");
        var inWindow = window.Count(e => e.Timestamp >= defined);
        Console.WriteLine($"   CPU in the {seconds} s window (machine {machineBusy:P0} busy; ms of CPU per report recorded in it, {inWindow:N0} reports):");
        foreach (var group in cpu.GroupBy(c => c.Key.Split('-')[0]))
        {
            var used = group.Sum(c => c.Value);
            Console.WriteLine($"      {group.Key,-9} {used,7:F1} s  {1000 * used / Math.Max(1, inWindow),6:F2} ms/report" +
                              (group.Count() > 1 ? $"  ({string.Join(", ", group.Select(c => $"{c.Key} {c.Value:F1} s"))})" : ""));
        }
        Console.WriteLine($"      bare Marten appends of the {window.Count:N0} reports: database {1000 * bareDatabase / window.Count:F2} ms/report, " +
                          $"the appending client {1000 * bareClient / window.Count:F2} ms/report");
        // The window holds the study's whole ingest when it ends early, and then the law reactor's refits of what ended.
        if (cpuSamples.FirstOrDefault(c => c.At >= window[^1].Timestamp) is { Cpu: not null } atLast)
        {
            var span = (window[^1].Timestamp - defined).TotalSeconds;
            double Servers(Dictionary<string, double> c) => c.Where(m => m.Key.StartsWith("server", StringComparison.Ordinal)).Sum(m => m.Value);
            string Each(Dictionary<string, double> c, Dictionary<string, double>? minus = null) => string.Join(", ",
                c.Where(m => m.Key.StartsWith("server", StringComparison.Ordinal)).Select(m => $"{m.Key} {m.Value - (minus?[m.Key] ?? 0):F1} s"));
            var during = Servers(atLast.Cpu);
            Console.WriteLine($"   the Servers' CPU while the reports came (the study's definition to its last report, {span:F0} s, to the next " +
                              $"second): {during:F1} s, {1000 * during / Math.Max(1, inWindow):F2} ms/report ({Each(atLast.Cpu)}); after it, " +
                              $"to the window's end (the laws' refits of the trials that ended): {Servers(cpu) - during:F1} s ({Each(cpu, atLast.Cpu)})");
        }
        return incomplete + twiceEnded + twice == 0 ? 0 : 1;
    }

    /// <summary>
    /// With the Servers stopped once every trial's command is queued, the trainers replay the whole study into the broker;
    /// then they stop. What the Servers take afterwards is the path from the broker on, with no trainer on these cores.
    /// </summary>
    private static async Task FillBacklogAsync(Team team, int trials)
    {
        var clock = Stopwatch.StartNew();
        while (await team.MessagesAsync(Queues.RunTrial) < trials)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException($"the Servers did not queue the {trials} trial commands within 5 min");
            await Task.Delay(500);
        }
        for (var i = 1; i <= team.Servers; i++) await team.RunAsync("term", $"server-{i}");
        for (var i = 1; i <= team.Trainers; i++) await team.RunAsync("up", $"trainer-{i}");
        // Done when every command is taken and the reports have stopped growing for 15 s.
        var (last, still) = (-1L, 0);
        while (still < 3)
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            var queued = await team.MessagesAsync(Queues.TrialReports);
            still = await team.MessagesAsync(Queues.RunTrial) == 0 && queued == last ? still + 1 : 0;
            last = queued;
            if (clock.Elapsed > TimeSpan.FromMinutes(30)) throw new TimeoutException("the trainers did not replay the study within 30 min");
        }
        for (var i = 1; i <= team.Trainers; i++) await team.RunAsync("term", $"trainer-{i}");
        // A message carries a start, an end, a heartbeat, or the checkpoints a trainer gathered since its last message.
        Console.WriteLine($"   queued with the Servers stopped: {await team.MessagesAsync(Queues.TrialReports):N0} messages from {team.Trainers} " +
                          $"trainer processes, in {clock.Elapsed.TotalSeconds:F0} s");
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
    private sealed class Team(int servers, int trainers, string recording, bool backlog)
    {
        private static readonly string Root = FindRoot();
        private readonly string directory = Path.Combine(Path.GetTempPath(), $"sl-load-{Guid.NewGuid():N}"[..18]);

        public int Trainers => trainers;

        public int Servers => servers;

        public string LedgerConnection => Setting("LEDGER_DB");

        /// <summary>The team's first admin (its Servers run with access control on).</summary>
        public string AdminToken => Setting("ADMIN_TOKEN");

        public string Server(int n) => $"http://127.0.0.1:{Setting($"SERVER_{n}_PORT")}";

        public async Task StartAsync()
        {
            // With a backlog to fill, the trainers start only once the Servers have queued every command and stopped.
            var output = await RunAsync("start", "--servers", servers.ToString(CultureInfo.InvariantCulture), "--trainers",
                (backlog ? 0 : trainers).ToString(CultureInfo.InvariantCulture), "--no-build");
            if (!File.Exists(Path.Combine(directory, "team.env"))) throw new InvalidOperationException($"scripts/team.sh start failed:\n{output}");
        }

        public Task StopAsync() => RunAsync("stop");

        public long RssMegabytes(string member)
        {
            var pid = File.ReadAllText(Path.Combine(directory, member + ".pid")).Trim();
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }

        /// <summary>Every member: database, broker, server-N, trainer-N (one not running counts no CPU).</summary>
        public IReadOnlyList<string> Members() =>
            ["database", "broker", .. Enumerable.Range(1, servers).Select(n => $"server-{n}"), .. Enumerable.Range(1, trainers).Select(n => $"trainer-{n}")];

        /// <summary>CPU seconds used so far by the member's process and every process under it (PostgreSQL's backends, the broker's helpers).</summary>
        public double CpuSeconds(string member)
        {
            var path = Path.Combine(directory, member + ".pid");
            return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid) ? Cpu.TreeSeconds(pid) : 0;
        }

        /// <summary>Waits until the queue is empty (its messages taken and acknowledged).</summary>
        public async Task DrainAsync(string queue, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (await EmptyAsync(queue)) return;
                await Task.Delay(1000);
            }
        }

        public async Task<bool> EmptyAsync(string queue) => await MessagesAsync(queue) == 0;

        /// <summary>The messages the queue holds (ready and unacknowledged); -1 while it does not exist.</summary>
        public async Task<long> MessagesAsync(string queue)
        {
            var line = (await RunAsync("queues")).Split('\n').FirstOrDefault(l => l.StartsWith(queue + "\t", StringComparison.Ordinal));
            return line is null ? -1 : long.Parse(line.Split('\t')[1].Trim(), CultureInfo.InvariantCulture);
        }

        private string Setting(string key) => File.ReadAllLines(Path.Combine(directory, "team.env"))
            .Select(l => l.Split('=', 2)).First(f => f[0] == key)[1].Trim('\'');

        public async Task<string> RunAsync(params string[] args)
        {
            var psi = new ProcessStartInfo(Path.Combine(Root, "scripts", "team.sh")) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args.Append("--dir").Append(directory)) psi.ArgumentList.Add(a);
            psi.Environment["Trainer__Replay"] = recording;
            psi.Environment["Trainer__AcknowledgementGraceMilliseconds"] = "0"; // replays never crash their trainer
            // A backlog waits in the broker while no Server runs: no lease may run out before its reports are taken.
            psi.Environment["Ledger__TrialLeaseSeconds"] = backlog ? "3600" : "120";
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

/// <summary>CPU time from /proc: of a process tree, and of the whole machine.</summary>
internal static class Cpu
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public static double TreeSeconds(int root)
    {
        var stats = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var text = File.ReadAllText(Path.Combine(dir, "stat"));
                // pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17): comm may hold spaces, so split after its closing parenthesis.
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                // utime, stime, and cutime, cstime: the time of its children that ended and were waited for (a backend
                // that closed), which no longer show in the tree.
                stats[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture), fields[11..15].Sum(f => long.Parse(f, CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
        }
        long ticks = 0;
        foreach (var (pid, (_, own)) in stats)
        {
            for (var p = pid; stats.TryGetValue(p, out var s); p = s.Parent)
            {
                if (p != root) continue;
                ticks += own;
                break;
            }
        }
        return ticks / TicksPerSecond;
    }

    /// <summary>Busy and total ticks of all cores since boot (/proc/stat).</summary>
    public static (double Busy, double All) Machine()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var all = fields.Sum();
        return (all - fields[3] - fields[4], all); // idle and iowait are not busy
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// The team topology as real processes (scripts/team.sh): PostgreSQL, RabbitMQ, Servers and trainers, each its own process,
/// so that a fault test can kill -9 any of them. Stopped (everything) when disposed.
/// </summary>
public sealed class TeamTopology : IAsyncDisposable
{
    public static readonly string Root = SiteBrowserTests.RepositoryRoot();
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"sl-team-{Guid.NewGuid():N}"[..20]);
    private readonly Dictionary<string, string> environment;

    private TeamTopology(Dictionary<string, string> environment) => this.environment = environment;

    /// <summary>Starts the team; <paramref name="settings"/> reach every member (e.g. Ledger__TrialLeaseSeconds).</summary>
    public static async Task<TeamTopology> StartAsync(int servers, int trainers, params (string Key, string Value)[] settings)
    {
        var team = new TeamTopology(settings.ToDictionary(s => s.Key, s => s.Value));
        var output = await team.RunAsync("start", "--servers", servers.ToString(), "--trainers", trainers.ToString(), "--no-build");
        if (!File.Exists(Path.Combine(team.Directory, "team.env")))
            throw new InvalidOperationException($"scripts/team.sh start failed:\n{output}");
        return team;
    }

    /// <summary>The team's broker, as its members reach it.</summary>
    public string RabbitUrl => Setting("RABBIT_URL");

    /// <summary>The base address of server-N.</summary>
    public string Server(int n) => $"http://127.0.0.1:{Setting($"SERVER_{n}_PORT")}";

    /// <summary>A client of server-N as the team's first admin (the team runs with access control on).</summary>
    public HttpClient Client(int n) => new()
    {
        BaseAddress = new Uri(Server(n)), Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Setting("ADMIN_TOKEN")) },
    };

    public int Pid(string member) => int.Parse(File.ReadAllText(Path.Combine(Directory, member + ".pid")).Trim());

    public bool Alive(string member) => File.Exists(Path.Combine(Directory, member + ".pid"));

    /// <summary>Whether the member's process runs (a member that died by itself keeps its pid file).</summary>
    public bool Running(string member)
    {
        if (!Alive(member)) return false;
        try
        {
            using var process = Process.GetProcessById(Pid(member));
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public string Log(string member) => File.ReadAllText(Path.Combine(Directory, member + ".log"));

    public Task<string> KillAsync(string member) => RunAsync("kill", member);

    public Task<string> TermAsync(string member) => RunAsync("term", member);

    public Task<string> UpAsync(string member) => RunAsync("up", member);

    /// <summary>The broker's queues and their message counts.</summary>
    public async Task<IReadOnlyDictionary<string, int>> QueuesAsync() =>
        (await RunAsync("queues")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t', ' '))
            .Where(f => f.Length >= 2 && int.TryParse(f[^1], out _))
            .ToDictionary(f => f[0], f => int.Parse(f[^1]));

    /// <summary>The member whose log says it holds a role (e.g. the reconciler's "reconciles the ledger's trials").</summary>
    public string? Holding(string logLine, int servers) =>
        Enumerable.Range(1, servers).Select(n => $"server-{n}").FirstOrDefault(s => Alive(s) && Log(s).Contains(logLine));

    private string Setting(string key) => File.ReadAllLines(Path.Combine(Directory, "team.env"))
        .Select(l => l.Split('=', 2)).First(f => f[0] == key)[1].Trim('\'');

    private async Task<string> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(Root, "scripts", "team.sh"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--dir");
        psi.ArgumentList.Add(Directory);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (await stdout) + (await stderr);
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("stop");
        // LEDGER_KEEP_TEAM=1 keeps the logs of a failed run (the directory is named in the test's output).
        if (Environment.GetEnvironmentVariable("LEDGER_KEEP_TEAM") == "1") return;
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// What every fault test asserts of a study's events: exactly one terminal event per trial, and at most one checkpoint per
    /// (trial, attempt, step). Returns the events.
    /// </summary>
    public static async Task<JsonArray> AssertIntactAsync(HttpClient client, Guid studyId, int trials)
    {
        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{studyId}/events");
        string Type(JsonNode? e) => e!["type"]!.GetValue<string>();
        var terminal = new[] { "TrialCompleted", "TrialDiverged", "TrialFailed", "TrialCancelled" };
        var ends = events.Where(e => terminal.Contains(Type(e))).GroupBy(e => e!["data"]!["trialId"]!.GetValue<Guid>()).ToList();
        ends.Count.ShouldBe(trials, "every trial ends");
        ends.ShouldAllBe(g => g.Count() == 1, "exactly one terminal event per trial");
        var checkpoints = events.Where(e => Type(e) == "LossCheckpointRecorded").Select(e => e!["data"]!)
            .Select(d => (Trial: d["trialId"]!.GetValue<Guid>(), Attempt: d["attempt"]?.GetValue<int>(), Step: d["step"]!.GetValue<int>())).ToList();
        checkpoints.ShouldAllBe(c => c.Attempt != null, "every checkpoint names its attempt");
        checkpoints.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => g.Key.ToString()).ShouldBeEmpty("a checkpoint recorded twice");
        return events;
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using MassTransit;
using Xunit.Abstractions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Faults with real processes (scripts/team.sh): PostgreSQL, RabbitMQ, two Servers on one database and two trainers training
/// real Fashion-MNIST. Each kills or stops a member mid-study and asserts the study completes with nothing lost and nothing
/// recorded twice; each prints how long the recovery took.
/// </summary>
[Collection(TeamCollection.Name)]
public sealed class TeamFaultTests(ITestOutputHelper output)
{
    /// <summary>Short leases, so that a dead trainer is noticed in seconds (the default is 60 s, heartbeats every 10 s).</summary>
    private static readonly (string, string)[] Fast = [("Ledger__TrialLeaseSeconds", "10"), ("Trainer__HeartbeatSeconds", "1")];

    private static JsonObject Spec(string name, int steps) =>
        StudyApi.TinySpec(name, widths: [16], rates: [0.001, 0.003], steps: steps);

    [Fact]
    public async Task a_trainer_killed_mid_trial_leaves_its_trial_to_the_other_as_attempt_two_with_one_curve()
    {
        await using var team = await TeamTopology.StartAsync(servers: 2, trainers: 2, Fast);
        using var client = team.Client(1);
        var id = await StudyApi.DefineAsync(client, Spec("kill-a-trainer", steps: 400));

        // Both trainers are training (one trial each) and have reported a checkpoint.
        var running = await WaitAsync(client, id, s => s["trials"]!.AsArray().Count(t => Checkpoints(t) > 0 && Status(t) == "Running") == 2,
            TimeSpan.FromSeconds(90));
        var victim = running["trials"]!.AsArray().First(t => WorkerPid(t) == team.Pid("trainer-1"))!;
        var victimId = victim["trialId"]!.GetValue<Guid>();
        var clock = Stopwatch.StartNew();
        await team.KillAsync("trainer-1");

        var resumed = await WaitAsync(client, id, s => Trial(s, victimId)["attempt"]!.GetValue<int>() == 2, TimeSpan.FromSeconds(90));
        var resumedAfter = clock.Elapsed;
        Trial(resumed, victimId)["workerId"]!.GetValue<string>().ShouldEndWith("/" + team.Pid("trainer-2"));
        var done = await StudyApi.WaitForAllTrials(client, id, "Completed", TimeSpan.FromSeconds(120));
        output.WriteLine($"trainer-1 killed: its trial restarted on trainer-2 as attempt 2 after {resumedAfter.TotalSeconds:F1} s " +
                         $"(lease 10 s), both trials completed {clock.Elapsed.TotalSeconds:F1} s after the kill");

        // Two Servers take the reports: the trial's end may be recorded before its last checkpoints, which are still recorded
        // for their attempt moments later (ReportDecisions: checkpoints of the run that counts). Under load (a fresh clone's ./test.sh beside a
        // training run) the study was read in between; the curve must be whole soon after, not at the instant of the end.
        done = await WaitAsync(client, id, s => Checkpoints(Trial(s, victimId)) >= 40, TimeSpan.FromSeconds(30));
        var events = await TeamTopology.AssertIntactAsync(client, id, trials: 2);
        var trial = Trial(done, victimId);
        trial["attempt"]!.GetValue<int>().ShouldBe(2);
        // One curve: the attempt that counts, every checkpoint of it once (400 steps, one every 10).
        trial["checkpoints"]!.AsArray().Select(c => c!["step"]!.GetValue<int>()).ShouldBe(Enumerable.Range(1, 40).Select(i => i * 10));
        var attempts = events.Where(e => e!["type"]!.GetValue<string>() == "LossCheckpointRecorded" && e["data"]!["trialId"]!.GetValue<Guid>() == victimId)
            .Select(e => e!["data"]!["attempt"]!.GetValue<int>()).Distinct().Order().ToList();
        attempts.ShouldBe([1, 2], "the first attempt's checkpoints stay in the ledger under attempt 1");
        events.Count(e => e!["type"]!.GetValue<string>() == "TrialAttemptFailed").ShouldBe(1);
        (await team.QueuesAsync()).Where(q => q.Key.EndsWith("_error") && q.Value > 0).ShouldBeEmpty();
    }

    [Fact]
    public async Task a_server_killed_mid_study_loses_nothing_and_the_other_finishes_the_study()
    {
        await using var team = await TeamTopology.StartAsync(servers: 2, trainers: 2, Fast);
        using var first = team.Client(1);
        using var second = team.Client(2);
        var id = await StudyApi.DefineAsync(first, StudyApi.TinySpec("kill-a-server", widths: [8, 16], rates: [0.001, 0.01], steps: 300));
        await WaitAsync(first, id, s => s["trials"]!.AsArray().Sum(Checkpoints) >= 10, TimeSpan.FromSeconds(90));

        // Kill the Server that reconciles (it sends the trials and watches their leases), in the middle of the reports.
        var leader = team.Holding("This Server reconciles", servers: 2) ?? "server-1";
        var survivor = leader == "server-1" ? second : first;
        var before = await StudyApi.GetArrayAsync(survivor, $"/api/studies/{id}/events");
        var clock = Stopwatch.StartNew();
        await team.KillAsync(leader);

        var done = await StudyApi.WaitForStatusAsync(survivor, id, "Completed", TimeSpan.FromSeconds(180));
        output.WriteLine($"{leader} (the reconciler) killed: the study completed on the other Server {clock.Elapsed.TotalSeconds:F1} s later");
        var events = await TeamTopology.AssertIntactAsync(survivor, id, trials: 4);
        // Nothing committed before the kill is lost: every event seen then is still there, in the same place.
        events.Take(before.Count).Select(e => e!["sequence"]!.GetValue<long>()).ShouldBe(before.Select(e => e!["sequence"]!.GetValue<long>()));
        done["trials"]!.AsArray().ShouldAllBe(t => Status(t) == "Completed" || Status(t) == "Diverged");
        (await StudyApi.GetAsync(survivor, $"/api/studies/{id}/verify"))["intact"]!.GetValue<bool>().ShouldBeTrue();
        (await team.QueuesAsync()).Where(q => q.Key.EndsWith("_error") && q.Value > 0).ShouldBeEmpty();
    }

    [Fact]
    public async Task a_trainer_stopped_with_sigterm_leaves_its_trial_to_the_other()
    {
        await using var team = await TeamTopology.StartAsync(servers: 2, trainers: 2, Fast);
        using var client = team.Client(1);
        var id = await StudyApi.DefineAsync(client, Spec("term-a-trainer", steps: 400));
        var running = await WaitAsync(client, id, s => s["trials"]!.AsArray().Count(t => Checkpoints(t) > 0 && Status(t) == "Running") == 2,
            TimeSpan.FromSeconds(90));
        var victimId = running["trials"]!.AsArray().First(t => WorkerPid(t) == team.Pid("trainer-2"))!["trialId"]!.GetValue<Guid>();
        var clock = Stopwatch.StartNew();
        await team.TermAsync("trainer-2");

        await StudyApi.WaitForAllTrials(client, id, "Completed", TimeSpan.FromSeconds(150));
        output.WriteLine($"trainer-2 stopped (SIGTERM): its trial completed on trainer-1 {clock.Elapsed.TotalSeconds:F1} s later (lease 10 s)");
        var trial = Trial(await StudyApi.GetAsync(client, $"/api/studies/{id}"), victimId);
        trial["attempt"]!.GetValue<int>().ShouldBe(2);
        trial["workerId"]!.GetValue<string>().ShouldEndWith("/" + team.Pid("trainer-1"));
        await TeamTopology.AssertIntactAsync(client, id, trials: 2);
        (await team.QueuesAsync()).Where(q => q.Key.EndsWith("_error") && q.Value > 0).ShouldBeEmpty();
    }

    [Fact]
    public async Task the_broker_and_then_the_database_restarted_under_load_lose_no_report()
    {
        // A lease longer than either outage: an outage is not a trainer's death. Reports wait 0.3 s in place, far less than the
        // database's outage: those taken meanwhile go to the error queue and must be replayed from there once it is back.
        await using var team = await TeamTopology.StartAsync(servers: 2, trainers: 2, ("Ledger__TrialLeaseSeconds", "60"), ("Trainer__HeartbeatSeconds", "2"),
            ("Ledger__ReportRetryMilliseconds", "100,200"));
        using var client = team.Client(1);
        output.WriteLine($"team in {team.Directory}");
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec("restart-broker-and-database", widths: [8, 16], rates: [0.001, 0.003],
            steps: 1500));
        await WaitAsync(client, id, s => s["trials"]!.AsArray().Sum(Checkpoints) >= 6, TimeSpan.FromSeconds(90));

        var clock = Stopwatch.StartNew();
        await team.TermAsync("broker");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await team.UpAsync("broker");
        var brokerBack = clock.Elapsed;
        var before = (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]!.AsArray().Sum(Checkpoints);
        await WaitAsync(client, id, s => s["trials"]!.AsArray().Sum(Checkpoints) > before, TimeSpan.FromSeconds(90));
        output.WriteLine($"RabbitMQ stopped for {brokerBack.TotalSeconds:F1} s: reports flowed again {clock.Elapsed.TotalSeconds:F1} s after the stop");

        clock.Restart();
        await team.TermAsync("database");
        // The health check says so, truthfully: a write is tried, not a cached answer.
        var down = await client.GetAsync("/health");
        ((int)down.StatusCode).ShouldBe(503);
        (await down.Content.ReadAsStringAsync()).ShouldContain("\"down\":[\"database\"]");
        await Task.Delay(TimeSpan.FromSeconds(5));
        await team.UpAsync("database");
        var databaseBack = clock.Elapsed;
        var done = await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromSeconds(240));
        output.WriteLine($"PostgreSQL stopped for {databaseBack.TotalSeconds:F1} s: the study completed {clock.Elapsed.TotalSeconds:F1} s after the stop");

        // Reports replayed from the error queue may land after the study completed (a checkpoint after its trial's end is still
        // its attempt's): the queues drain, then every curve is whole.
        var drained = Stopwatch.StartNew();
        while ((await team.QueuesAsync()).Any(q => q.Key.EndsWith("_error") && q.Value > 0) && drained.Elapsed < TimeSpan.FromSeconds(180))
            await Task.Delay(500);
        await Task.Delay(1000);
        done = await StudyApi.GetAsync(client, $"/api/studies/{id}");
        output.WriteLine($"error queues drained {clock.Elapsed.TotalSeconds:F1} s after the database's stop");
        var health = await StudyApi.GetAsync(client, "/health");
        health["status"]!.GetValue<string>().ShouldBe("healthy");
        health["reactors"]!.AsArray().ShouldNotBeEmpty();
        var events = await TeamTopology.AssertIntactAsync(client, id, trials: 4);
        // No report lost: every trial that completed has its whole curve (1,500 steps, one checkpoint every 10) for its attempt.
        foreach (var trial in done["trials"]!.AsArray().Where(t => Status(t) == "Completed"))
            trial!["checkpoints"]!.AsArray().Count.ShouldBe(150, $"trial {trial["trialId"]} attempt {trial["attempt"]}");
        events.Count(e => e!["type"]!.GetValue<string>() == "TrialAttemptFailed").ShouldBe(0, "an outage is not a failed attempt");
        var replayed = team.Log("server-1").Split('\n').Concat(team.Log("server-2").Split('\n')).Count(l => l.Contains("from the error queue"));
        output.WriteLine($"{replayed} report(s) used up their tries in place during the outage and were replayed from the error queue");
        replayed.ShouldBeGreaterThan(0, "no report reached the error queue: the outage did not test the replay");
        (await team.QueuesAsync()).Where(q => q.Key.EndsWith("_error") && q.Value > 0).ShouldBeEmpty();
    }

    [Fact]
    public async Task a_trial_that_kills_its_trainer_every_time_ends_as_failed_after_its_attempts_and_the_rest_completes()
    {
        // Simulated trainers replay a recording in which width 16 killed its trainer; a supervisor restarts dead trainers.
        var recording = Path.Combine(Path.GetTempPath(), $"poison-{Guid.NewGuid():N}.json");
        object Trial(int width, string status) => new
        {
            width, learningRate = 0.001, seed = 0, status,
            checkpoints = Enumerable.Range(1, 5).Select(s => new[] { s, 2.0 - 0.1 * s, 2.0 - 0.1 * s, 0.5 }).ToArray(),
            finalEvalLoss = 1.5, finalEvalAccuracy = 0.5, parameterCount = 1000L, durationSeconds = 1.0,
        };
        await File.WriteAllTextAsync(recording, System.Text.Json.JsonSerializer.Serialize(new
        {
            source = "poison test", trials = new[] { Trial(8, "Completed"), Trial(16, "KilledTrainer") },
        }, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));
        await using var team = await TeamTopology.StartAsync(servers: 2, trainers: 2, [.. Fast, ("Trainer__Replay", recording)]);
        using var client = team.Client(1);
        var spec = StudyApi.TinySpec("poison", widths: [8, 16], rates: [0.001], steps: 5);
        spec["evalEvery"] = 1;
        var id = await StudyApi.DefineAsync(client, spec);

        var clock = Stopwatch.StartNew();
        var deaths = 0;
        JsonObject study;
        do
        {
            foreach (var trainer in new[] { "trainer-1", "trainer-2" }.Where(t => !team.Running(t)))
            {
                deaths++;
                await team.UpAsync(trainer);
            }
            await Task.Delay(500);
            study = await StudyApi.GetAsync(client, $"/api/studies/{id}");
        } while (study["status"]!.GetValue<string>() == "Running" && clock.Elapsed < TimeSpan.FromMinutes(3));
        output.WriteLine($"a trial that kills its trainer: {deaths} trainer deaths, study {study["status"]} after " +
                         $"{clock.Elapsed.TotalSeconds:F1} s (lease 10 s)");

        study["status"]!.GetValue<string>().ShouldBe("Completed");
        var poison = study["trials"]!.AsArray().Single(t => t!["width"]!.GetValue<int>() == 16)!;
        Status(poison).ShouldBe("Failed");
        poison["attempt"]!.GetValue<int>().ShouldBe(3);
        Status(study["trials"]!.AsArray().Single(t => t!["width"]!.GetValue<int>() == 8)).ShouldBe("Completed");
        deaths.ShouldBeGreaterThanOrEqualTo(2, "the supervisor restarted the trainers the trial killed");
        var events = await TeamTopology.AssertIntactAsync(client, id, trials: 2);
        // Three runs, each an attempt (a run whose trainer died before its command was acknowledged is delivered again by
        // RabbitMQ, one after is sent again at the end of its lease: either way the next run is the next attempt).
        var poisonId = poison["trialId"]!.GetValue<Guid>();
        events.Count(e => e!["type"]!.GetValue<string>() == "TrialStarted" && e["data"]!["trialId"]!.GetValue<Guid>() == poisonId).ShouldBe(3);
        (await team.QueuesAsync()).Where(q => q.Key.EndsWith("_error") && q.Value > 0).ShouldBeEmpty();
        File.Delete(recording);
    }

    [Fact]
    public async Task two_hundred_forged_early_reports_on_the_broker_do_not_hold_the_report_slots_while_a_trial_runs()
    {
        // One Server: 128 report slots, fewer than the forged reports (each would have held one for about 175 s before).
        await using var team = await TeamTopology.StartAsync(servers: 1, trainers: 2, Fast);
        using var client = team.Client(1);
        var id = await StudyApi.DefineAsync(client, Spec("forged-reports", steps: 400));
        var running = await WaitAsync(client, id, s => s["trials"]!.AsArray().Any(t => Checkpoints(t) > 0 && Status(t) == "Running"),
            TimeSpan.FromSeconds(90));
        var target = running["trials"]!.AsArray().First(t => Status(t) == "Running")!["trialId"]!.GetValue<Guid>();

        // A real study and trial, runs nobody started: half of one run, half of a run each.
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(new Uri(team.RabbitUrl)));
        await bus.StartAsync();
        var forgedRun = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 200; i++)
        {
            var run = i % 2 == 0 ? forgedRun : Guid.NewGuid();
            await bus.Publish(new Contracts.LossCheckpointRecorded(id, target, 10, 9.99, 9.99, 0.01, DateTimeOffset.UtcNow),
                c => c.Headers.Set(Contracts.ReportHeaders.Run, run));
        }
        await bus.StopAsync();
        output.WriteLine($"200 forged reports published in {clock.Elapsed.TotalSeconds:F1} s");

        var done = await StudyApi.WaitForAllTrials(client, id, "Completed", TimeSpan.FromSeconds(150));
        output.WriteLine($"both trials completed {clock.Elapsed.TotalSeconds:F1} s after the forgery began (lease 10 s)");
        var events = await TeamTopology.AssertIntactAsync(client, id, trials: 2);
        // No lease ran out while the forged reports were there: every trial's first attempt completed ...
        events.Count(e => e!["type"]!.GetValue<string>() == "TrialAttemptFailed").ShouldBe(0);
        done["trials"]!.AsArray().ShouldAllBe(t => t!["attempt"]!.GetValue<int>() == 1);
        // ... and none of the forged reports was recorded.
        events.Where(e => e!["type"]!.GetValue<string>() == "LossCheckpointRecorded").ShouldAllBe(e => e!["data"]!["trainLoss"]!.GetValue<double>() < 9);
        Trial(done, target)["checkpoints"]!.AsArray().Select(c => c!["step"]!.GetValue<int>()).ShouldBe(Enumerable.Range(1, 40).Select(i => i * 10));
    }

    private static string Status(JsonNode? trial) => trial!["status"]!.GetValue<string>();

    private static int Checkpoints(JsonNode? trial) => trial!["checkpoints"]?.AsArray().Count ?? 0;

    private static int WorkerPid(JsonNode? trial) =>
        trial!["workerId"]?.GetValue<string>() is { } worker && int.TryParse(worker.Split('/').Last(), out var pid) ? pid : -1;

    private static JsonNode Trial(JsonObject study, Guid trialId) =>
        study["trials"]!.AsArray().First(t => t!["trialId"]!.GetValue<Guid>() == trialId)!;

    private static async Task<JsonObject> WaitAsync(HttpClient client, Guid id, Func<JsonObject, bool> until, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject study;
        do
        {
            study = await StudyApi.GetAsync(client, $"/api/studies/{id}");
            if (until(study)) return study;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        var text = study.ToJsonString();
        throw new TimeoutException($"Study {id}: the condition did not hold within {timeout}: {text[..Math.Min(3000, text.Length)]}");
    }
}

/// <summary>The team tests run one at a time (each starts its own processes; two would fight for the two cores).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TeamCollection
{
    public const string Name = "team";
}

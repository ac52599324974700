using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Intake;
using ScalingLedger.Server.Studies;
using Xunit.Abstractions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// What a trainer (or anyone on the bus) sends is checked before it joins a group: a bad report is refused alone, a huge one
/// at once, forged ids leave nothing behind, and coordinate checks are bounded. Reports that arrive together are appended
/// together.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ReportBoundaryTests(PostgresFixture pg, ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    /// <summary>A study of <paramref name="widths"/> x two rates, with every trial started as a trainer would.</summary>
    private async Task<(LedgerApp App, HttpClient Client, Guid Id, IReadOnlyList<Guid> Trials)> StartedAsync(int[] widths)
    {
        var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(widths: widths));
        var trials = (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]!.AsArray().Select(t => t!["trialId"]!.GetValue<Guid>()).ToList();
        var bus = app.Services.GetRequiredService<IBus>();
        await Task.WhenAll(trials.Select(t => bus.Publish(new TrialStarted(id, t, 1, "w", "h", 1, "0.107", Now))));
        await StudyApi.WaitForAllTrials(client, id, "Running", TimeSpan.FromSeconds(30));
        return (app, client, id, trials);
    }

    private static async Task WaitAsync(Func<Task<bool>> done, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            await Task.Delay(20);
        }
    }

    private static async Task<int> CheckpointsAsync(HttpClient client, Guid id) =>
        (await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events")).Count(e => e!["type"]!.GetValue<string>() == nameof(LossCheckpointRecorded));

    [Fact]
    public async Task of_32_reports_taken_together_the_one_with_1e400_is_refused_and_the_31_commit_first_time()
    {
        var (app, client, id, trials) = await StartedAsync([8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536]);
        await using var _ = app;
        trials.Count.ShouldBe(32);
        var bus = app.Services.GetRequiredService<IBus>();
        // The trainer's JSON says 1e400, which System.Text.Json reads as infinity; PostgreSQL cannot store it, and would
        // fail the whole group's save.
        await Task.WhenAll(trials.Select((t, i) => i == 7
            ? bus.Publish(new LossCheckpointRecorded(id, t, 10, 1.0, 0.123456789, 0.5, Now),
                c => c.Serializer = new Spelling(c.Serializer!, "0.123456789", "1e400"))
            : bus.Publish(new LossCheckpointRecorded(id, t, 10, 1.0, 0.9, 0.5, Now))));
        await WaitAsync(async () => await CheckpointsAsync(client, id) >= 31, "the 31 good checkpoints", TimeSpan.FromSeconds(30));
        await Task.Delay(300);
        (await CheckpointsAsync(client, id)).ShouldBe(31);
        (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]!.AsArray()
            .Single(t => t!["trialId"]!.GetValue<Guid>() == trials[7])!["checkpoints"]!.AsArray().ShouldBeEmpty();
        app.Services.GetRequiredService<StudyWriter>().GroupsSplit.ShouldBe(0, "a group had to be split: the bad report reached the store");
        app.Logs.Messages.ShouldContain(m => m.StartsWith("Refused LossCheckpointRecorded", StringComparison.Ordinal)
            && m.Contains("evalLoss") && m.Contains("is not a finite, non-negative loss"));
    }

    [Fact]
    public async Task a_burst_of_whole_trials_is_appended_in_groups_that_mix_trials_and_each_trial_is_recorded_whole()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(widths: [8, 12, 16, 24, 32, 48, 64, 96], steps: 30));
        var trials = (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]!.AsArray().Select(t => t!["trialId"]!.GetValue<Guid>()).ToList();
        trials.Count.ShouldBe(16);
        var bus = app.Services.GetRequiredService<IBus>();
        // As a fast trainer sends them: each trial's start, its checkpoints and its end, one trial after another. The writer takes
        // one report of a trial per group; a group that stopped at a trial's second report would hold one or two reports.
        foreach (var trial in trials)
        {
            var run = Guid.NewGuid();
            object[] sent =
            [
                new TrialStarted(id, trial, 1, "w", "h", 1, "0.107", Now) with { RunId = run },
                new LossCheckpointsRecorded(id, trial,
                    [new LossCheckpointRecorded(id, trial, 10, 1.0, 0.9, 0.5, Now), new LossCheckpointRecorded(id, trial, 20, 1.0, 0.8, 0.6, Now)]),
                new TrialCompleted(id, trial, 0.8, 0.6, 100, 1, Now),
            ];
            foreach (var report in sent) await bus.Publish(report, report.GetType(), c => c.Headers.Set(ReportHeaders.Run, run));
        }
        await StudyApi.WaitForAllTrials(client, id, "Completed", TimeSpan.FromSeconds(60));

        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        foreach (var trial in trials)
        {
            var own = events.Where(e => e!["data"]?["trialId"]?.GetValue<Guid>() == trial).ToList();
            // Its start first. Its checkpoints may follow its end when both came before the start and waited for it (reports that
            // name their run need no order: a checkpoint after its trial's end is still its attempt's).
            string.Join(",", own.Select(e => e!["type"]!.GetValue<string>()).Order()).ShouldBe(
                $"{nameof(LossCheckpointRecorded)},{nameof(LossCheckpointRecorded)},{nameof(TrialCompleted)},{nameof(TrialStarted)}",
                $"trial {trial}: one start, its two checkpoints and one end");
            own[0]!["type"]!.GetValue<string>().ShouldBe(nameof(TrialStarted));
            own.Where(e => e!["type"]!.GetValue<string>() == nameof(LossCheckpointRecorded))
                .ShouldAllBe(e => e!["data"]!["attempt"]!.GetValue<int>() == 1);
        }
        var (groups, reports) = app.Services.GetRequiredService<StudyWriter>().Grouped;
        output.WriteLine($"{reports} reports of 16 trials appended in {groups} groups ({reports / (double)groups:F1} a group)");
        reports.ShouldBeGreaterThanOrEqualTo(48);
        (reports / (double)groups).ShouldBeGreaterThan(3.0, "the writer appended the burst a trial's report at a time");
    }

    [Fact]
    public async Task a_checkpoint_taken_before_its_run_s_start_waits_for_that_start_in_the_server()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(widths: [8]));
        var trial = (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]![0]!["trialId"]!.GetValue<Guid>();
        var bus = app.Services.GetRequiredService<IBus>();
        var run = Guid.NewGuid();
        await bus.Publish(new LossCheckpointRecorded(id, trial, 10, 1.0, 0.9, 0.5, Now), c => c.Headers.Set(ReportHeaders.Run, run));
        await Task.Delay(300);
        await bus.Publish(new TrialStarted(id, trial, 1, "w", "h", 1, "0.107", Now) with { RunId = run }, c => c.Headers.Set(ReportHeaders.Run, run));
        await WaitAsync(async () => await CheckpointsAsync(client, id) == 1, "the early checkpoint", TimeSpan.FromSeconds(10));

        // It waited for the start here (not in the transport's retry), and the start ended its wait.
        var (waited, timedOut) = app.Services.GetRequiredService<RunStarts>().Counts;
        waited.ShouldBeGreaterThanOrEqualTo(1);
        timedOut.ShouldBe(0);
    }

    [Fact]
    public async Task a_100000_checkpoint_report_is_refused_within_a_second_and_the_trial_goes_on()
    {
        var (app, client, id, trials) = await StartedAsync([8]);
        await using var _ = app;
        var bus = app.Services.GetRequiredService<IBus>();
        var huge = new LossCheckpointsRecorded(id, trials[0],
            Enumerable.Range(1, 100_000).Select(step => new LossCheckpointRecorded(id, trials[0], step, 1, 1, 0.5, Now)).ToList());
        var clock = Stopwatch.StartNew();
        await bus.Publish(huge);
        var sent = clock.Elapsed;
        clock.Restart();
        await WaitAsync(() => Task.FromResult(app.Logs.Count("Refused a") == 1), "the refusal", TimeSpan.FromSeconds(10));
        clock.Stop();
        output.WriteLine($"100,000 checkpoints in one message: {sent.TotalMilliseconds:F0} ms to serialize and send, " +
            $"refused {clock.Elapsed.TotalMilliseconds:F0} ms after (reading the message included)");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
        app.Logs.Messages.ShouldContain(m => m.StartsWith("Refused a message of", StringComparison.Ordinal) && m.Contains("a report is at most"));

        await bus.Publish(new LossCheckpointRecorded(id, trials[0], 10, 1, 0.9, 0.5, Now));
        await WaitAsync(async () => await CheckpointsAsync(client, id) == 1, "the next checkpoint", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ten_thousand_reports_with_random_ids_leave_the_server_holding_nothing_of_them()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec());
        var bus = app.Services.GetRequiredService<IBus>();
        async Task ForgeAsync(int count, int expectedRefusals)
        {
            for (var sent = 0; sent < count; sent += 500)
                await Task.WhenAll(Enumerable.Range(0, 500).Select(i => bus.Publish(
                    new LossCheckpointRecorded(i % 2 == 0 ? id : Guid.NewGuid(), Guid.NewGuid(), 10, 1, 1, 0.5, Now),
                    c => c.Headers.Set(ReportHeaders.Run, Guid.NewGuid()))));
            await WaitAsync(() => Task.FromResult(app.Logs.Count("Refused LossCheckpointRecorded") >= expectedRefusals),
                $"{expectedRefusals} refusals", TimeSpan.FromMinutes(2));
        }
        await ForgeAsync(500, 500); // warm: every code path has run once
        var baseline = Memory();
        var clock = Stopwatch.StartNew();
        await ForgeAsync(10_000, 10_500);
        clock.Stop();
        var after = Memory();
        output.WriteLine($"10,000 forged reports refused in {clock.Elapsed.TotalSeconds:F1} s; managed memory {baseline / 1e6:F1} MB before, " +
            $"{after / 1e6:F1} MB after ({(after - baseline) / 1e6:+0.0;-0.0} MB)");

        // Each was refused before it waited for a turn, held a slot or reached the writer; none is remembered.
        app.Services.GetRequiredService<RunStarts>().Tracked.ShouldBe(0);
        app.Services.GetRequiredService<StudyWriter>().Tracked.ShouldBe(0);
        // Only the study's own four trials are known (remembered as their commands were sent), none of the forged ids.
        app.Services.GetRequiredService<KnownTrials>().Count.ShouldBe(4);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "a forged id held a report slot");
        (after - baseline).ShouldBeLessThan(16_000_000);
        (await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events")).Count.ShouldBe(1);

        static long Memory()
        {
            for (var i = 0; i < 3; i++) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            return GC.GetTotalMemory(forceFullCollection: true);
        }
    }

    [Fact]
    public async Task a_hundred_coordinate_checks_are_capped_stored_apart_and_leave_the_summary_small_and_a_failed_one_is_recorded()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec());
        var accepted = new List<Guid>();
        var refused = 0;
        for (var i = 0; i < 100; i++)
        {
            var response = await client.PostAsJsonAsync($"/api/studies/{id}/coordinate-checks", new { widths = new[] { 8, 16 }, steps = 10 });
            if (response.StatusCode == HttpStatusCode.Accepted)
                accepted.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["checkId"]!.GetValue<Guid>());
            else
            {
                response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
                (await response.Content.ReadAsStringAsync()).ShouldContain($"{CoordinateCheckLimits.MaxPerStudy} coordinate checks");
                refused++;
            }
        }
        accepted.Count.ShouldBe(CoordinateCheckLimits.MaxPerStudy);
        refused.ShouldBe(100 - CoordinateCheckLimits.MaxPerStudy);

        var bus = app.Services.GetRequiredService<IBus>();
        string[] layers = ["hidden0", "hidden1", "output"];
        IReadOnlyList<IReadOnlyList<double>> Rows() => Enumerable.Range(0, 11).Select(s => (IReadOnlyList<double>)[1.0 + s, 2.0 + s, 3.0 + s]).ToList();
        foreach (var check in accepted.SkipLast(1))
            await bus.Publish(new CoordinateCheckRecorded(id, check, "standard", null, 0.01, 10, layers,
                [new CoordinateCheckWidth(8, Rows()), new CoordinateCheckWidth(16, Rows())], Now));
        await bus.Publish(new CoordinateCheckFailed(id, accepted[^1], "OutOfMemoryException: the trainer ran out of memory", Now));
        // A result for a check nobody asked for is refused.
        await bus.Publish(new CoordinateCheckRecorded(id, Guid.NewGuid(), "standard", null, 0.01, 10, layers, [new CoordinateCheckWidth(8, Rows())], Now));

        await WaitAsync(async () => (await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/coordinate-checks")).Count == accepted.Count - 1,
            "the recorded checks", TimeSpan.FromSeconds(30));
        var study = await StudyApi.GetAsync(client, $"/api/studies/{id}");
        await WaitAsync(async () => (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["failedCoordinateChecks"]!.AsArray().Count == 1,
            "the failed check", TimeSpan.FromSeconds(10));
        study = await StudyApi.GetAsync(client, $"/api/studies/{id}");
        study["failedCoordinateChecks"]![0]!["error"]!.GetValue<string>().ShouldContain("ran out of memory");
        await WaitAsync(() => Task.FromResult(app.Logs.Count("Refused CoordinateCheckRecorded") == 1), "the unasked result refused", TimeSpan.FromSeconds(10));

        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var summary = (await session.Json.FindByIdAsync<StudySummaryView>(id))!;
        output.WriteLine($"The summary document after {accepted.Count} coordinate checks: {summary.Length:N0} characters");
        summary.Length.ShouldBeLessThan(4_000);
    }

    /// <summary>Sends a message as the default serializer writes it, with one number spelled as a trainer might spell it.</summary>
    private sealed class Spelling(IMessageSerializer inner, string from, string to) : IMessageSerializer
    {
        public System.Net.Mime.ContentType ContentType => inner.ContentType;

        public MessageBody GetMessageBody<T>(SendContext<T> context) where T : class =>
            new Body(inner.GetMessageBody(context).GetString().Replace(from, to, StringComparison.Ordinal));

        private sealed class Body(string json) : MessageBody
        {
            private readonly byte[] bytes = System.Text.Encoding.UTF8.GetBytes(json);
            public long? Length => bytes.Length;
            public Stream GetStream() => new MemoryStream(bytes, writable: false);
            public byte[] GetBytes() => bytes;
            public string GetString() => json;
        }
    }
}

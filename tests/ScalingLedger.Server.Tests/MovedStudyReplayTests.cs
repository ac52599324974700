using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Contracts;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// A study moved to another ledger (<c>export</c>, then <c>import-events</c>) replays where its events happened: its events land
/// at other positions there (after another study's), and the site's replay, <c>?asOf=</c>, the belief history, the fits' history
/// and the audits speak the sequences of the ledger it was recorded in, as its own data (a fit's evidence sequence) do.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MovedStudyReplayTests(PostgresFixture pg)
{
    private static string Json<T>(T value) => JsonSerializer.Serialize(value, LedgerJson.Api);

    /// <param name="otherStudyWhereItGoes">
    /// The other study is in the ledger it goes to (its events land at higher numbers there than they had), or in the ledger it
    /// comes from (lower: the events recorded after the move, its import's record first, must still come after its history).
    /// </param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task a_study_moved_between_ledgers_where_another_study_is_replays_step_by_step_as_it_did_where_it_was_recorded(
        bool otherStudyWhereItGoes)
    {
        // Recorded where it is first recorded a width at a time, the reactor refitting between: trials end one by one, fits
        // follow, predictions of the wider widths are issued, then resolved when those are reported.
        await using var source = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var from = source.CreateClient();
        if (!otherStudyWhereItGoes)
        {
            await StudyApi.ImportAsync(from, "already-there");
            await StudyApi.WaitForReactorsAsync(from, TimeSpan.FromSeconds(60));
        }
        var id = await StudyApi.DefineAsync(from, StudyApi.TinySpec("moved", widths: [8, 16, 32, 64], rates: [0.001, 0.003, 0.01]));
        var trials = (await StudyApi.GetAsync(from, $"/api/studies/{id}?checkpoints=none"))["trials"]!.AsArray().Select(t => t!).ToList();
        var bus = source.Services.GetRequiredService<IBus>();
        var ended = 0;
        foreach (var width in trials.Select(t => t["width"]!.GetValue<int>()).Distinct().Order())
        {
            foreach (var trial in trials.Where(t => t["width"]!.GetValue<int>() == width))
            {
                var trialId = trial["trialId"]!.GetValue<Guid>();
                var loss = 2.0 * Math.Pow(width, -0.3) * (1 + Math.Abs(Math.Log10(trial["learningRate"]!.GetValue<double>() / 0.003)));
                var (run, now) = (Guid.NewGuid(), DateTimeOffset.UtcNow);
                object[] reports =
                [
                    new TrialStarted(id, trialId, 1, "w", "h", 1, "0.107", now) with { RunId = run },
                    new LossCheckpointsRecorded(id, trialId, [new LossCheckpointRecorded(id, trialId, 10, loss * 1.5, loss * 1.5, 0.5, now)]),
                    new TrialCompleted(id, trialId, loss, 0.7, 100 * width, 1, now),
                ];
                foreach (var report in reports) await bus.Publish(report, report.GetType(), c => c.Headers.Set(ReportHeaders.Run, run));
                ended++;
            }
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await StudyApi.GetAsync(from, $"/api/studies/{id}?checkpoints=none"))["trials"]!.AsArray()
                   .Count(t => t!["status"]!.GetValue<string>() == "Completed") < ended)
            {
                DateTime.UtcNow.ShouldBeLessThan(deadline, $"width {width}'s reports recorded");
                await Task.Delay(100);
            }
            await StudyApi.WaitForReactorsAsync(from, TimeSpan.FromSeconds(60));
        }
        await StudyApi.WaitForStatusAsync(from, id, "Completed", TimeSpan.FromSeconds(60));
        await StudyApi.WaitForReactorsAsync(from, TimeSpan.FromSeconds(60));
        var export = await from.GetStringAsync($"/api/studies/{id}/export");

        // A ledger holding another study first: the moved study's events land at positions its data never spoke.
        await using var target = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var to = target.CreateClient();
        if (otherStudyWhereItGoes)
        {
            await StudyApi.ImportAsync(to, "already-here");
            await StudyApi.WaitForReactorsAsync(to, TimeSpan.FromSeconds(60));
        }
        var imported = await to.PostAsync("/api/studies/import-events", new StringContent(export, Encoding.UTF8, "application/json"));
        imported.StatusCode.ShouldBe(HttpStatusCode.Created, await imported.Content.ReadAsStringAsync());
        await StudyApi.WaitForReactorsAsync(to, TimeSpan.FromSeconds(60));

        // Each event keeps where it happened beside where it sits now, and the two differ.
        var there = await StudyApi.GetArrayAsync(from, $"/api/studies/{id}/events");
        var here = await StudyApi.GetArrayAsync(to, $"/api/studies/{id}/events");
        here.Count.ShouldBe(there.Count + 1, "the study's events and the import's record");
        for (var i = 0; i < there.Count; i++)
        {
            here[i]!["recordedSequence"]!.GetValue<long>().ShouldBe(there[i]!["sequence"]!.GetValue<long>(), $"event {i + 1}");
            here[i]!["sequence"]!.GetValue<long>().ShouldNotBe(there[i]!["sequence"]!.GetValue<long>(), $"event {i + 1} sits elsewhere here");
        }
        // What is recorded here after the move (the import's record first) comes after the study's history in its numbering.
        here[^1]!["recordedSequence"]!.GetValue<long>().ShouldBeGreaterThan(there[^1]!["sequence"]!.GetValue<long>(), "the import's record");

        // The site's replay, step by step as ▶ plays it: the same moments, and at each the same study and belief history.
        var original = new StudyPage(source.Services.GetRequiredService<ILedgerQueries>(), id);
        var moved = new StudyPage(target.Services.GetRequiredService<ILedgerQueries>(), id);
        foreach (var page in new[] { original, moved })
        {
            await page.ShowAsync(null);
            await page.LoadReplayAsync();
        }
        var moments = original.Replay!.Moments;
        moments.Count.ShouldBeGreaterThan(trials.Count + 2, "its start, its trials' ends and the refits between");
        moved.Replay!.Moments.ShouldBe(moments);
        await original.SeekAsync(original.Replay.First);
        await moved.SeekAsync(moved.Replay.First);
        var (steps, believed) = (0, 0);
        // The original's replay goes back to now at its last moment; the moved study's goes on to the import's record.
        while (original.AsOf is { } at)
        {
            moved.AsOf.ShouldBe(at);
            original.UpdateHistory();
            moved.UpdateHistory();
            Json(moved.Study).ShouldBe(Json(original.Study), $"the replayed study at step {steps} (sequence {at})");
            Json(moved.History).ShouldBe(Json(original.History), $"the belief history at step {steps} (sequence {at})");
            if (original.History!.Predictions.Count > 0) believed++;

            // The API's ?asOf= shows the same as of the same sequence.
            var asOfThere = await StudyApi.GetAsync(from, $"/api/studies/{id}?asOf={at}&checkpoints=none");
            var asOfHere = await StudyApi.GetAsync(to, $"/api/studies/{id}?asOf={at}&checkpoints=none");
            asOfHere.ToJsonString().ShouldBe(asOfThere.ToJsonString(), $"?asOf={at}");

            await original.StepAsync(1);
            await moved.StepAsync(1);
            steps++;
        }
        // The last moment: the original shows the study now, the moved one that moment (its import's record comes after).
        steps.ShouldBe(moments.Count - 1);
        believed.ShouldBeGreaterThan(0, "the replay reaches moments with predictions");
        moved.AsOf.ShouldBe(moments[^1]);
        Json(moved.Study).ShouldBe(Json(original.Replay.At(moments[^1])), "the replayed study at its last moment");
        var lastThere = await StudyApi.GetAsync(from, $"/api/studies/{id}?asOf={moments[^1]}&checkpoints=none");
        var lastHere = await StudyApi.GetAsync(to, $"/api/studies/{id}?asOf={moments[^1]}&checkpoints=none");
        lastHere.ToJsonString().ShouldBe(lastThere.ToJsonString());
        lastHere["trials"]!.AsArray().ShouldAllBe(t => t!["status"]!.GetValue<string>() != "Scheduled");

        // The fits' history and every audit: the same sequences, the same evidence, each re-derived.
        (await StudyApi.GetArrayAsync(to, $"/api/studies/{id}/fits")).ToJsonString()
            .ShouldBe((await StudyApi.GetArrayAsync(from, $"/api/studies/{id}/fits")).ToJsonString());
        var predictions = (await StudyApi.GetAsync(from, $"/api/studies/{id}?checkpoints=none"))["predictions"]!.AsArray();
        predictions.Count.ShouldBeGreaterThan(0);
        foreach (var p in predictions.Take(30))
        {
            var path = $"/api/predictions/{p!["issued"]!["predictionId"]!.GetValue<Guid>()}";
            var auditHere = await StudyApi.GetAsync(to, path);
            auditHere["verified"]!.GetValue<bool>().ShouldBeTrue(auditHere["differences"]!.ToJsonString());
            auditHere.ToJsonString().ShouldBe((await StudyApi.GetAsync(from, path)).ToJsonString(), path);
        }
    }
}

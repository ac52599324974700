using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Tests;

/// <summary>Cancelling mid-trial, coordinate checks through the API, and surviving a restart.</summary>
[Collection(PostgresCollection.Name)]
public sealed class TrainerControlTests(PostgresFixture pg)
{
    [Fact]
    public async Task cancelling_mid_trial_stops_the_running_trial_and_no_queued_trial_starts()
    {
        await using var app = await pg.NewLedgerAsync();
        var client = app.CreateClient();
        // Long enough that the first trial is still running when the cancel arrives.
        var spec = StudyApi.TinySpec(widths: [256, 512], steps: 200_000);
        spec["evalEvery"] = 1_000;
        var id = await StudyApi.DefineAsync(client, spec);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonArray trials;
        do
        {
            await Task.Delay(200);
            trials = (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]!.AsArray();
        } while (trials[0]!["status"]!.GetValue<string>() != "Running" && DateTime.UtcNow < deadline);
        trials[0]!["status"]!.GetValue<string>().ShouldBe("Running");

        var cancelledAt = DateTime.UtcNow;
        (await client.PostAsync($"/api/studies/{id}/cancel", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var study = await StudyApi.WaitForAllTrials(client, id, "Cancelled", TimeSpan.FromSeconds(30));
        (DateTime.UtcNow - cancelledAt).ShouldBeLessThan(TimeSpan.FromSeconds(30));
        study["status"]!.GetValue<string>().ShouldBe("Cancelled");

        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        var started = events.Where(e => e!["type"]!.GetValue<string>() == nameof(TrialStarted)).ToList();
        started.Count.ShouldBe(1); // the queued trials never started
        var runningCancelled = events.Single(e => e!["type"]!.GetValue<string>() == nameof(TrialCancelled)
            && e["data"]!["trialId"]!.GetValue<Guid>() == trials[0]!["trialId"]!.GetValue<Guid>());
        runningCancelled!["data"]!["atStep"]!.GetValue<int>().ShouldBeGreaterThan(0);
        runningCancelled["data"]!["atStep"]!.GetValue<int>().ShouldBeLessThan(200_000);

        // Nothing is written after the study ended: the cancelled trial's events end the stream.
        await Task.Delay(1000);
        (await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events")).Count.ShouldBe(events.Count);
    }

    [Fact]
    public async Task a_trial_whose_trainer_breaks_is_run_again_as_new_attempts_and_every_failure_stays_in_the_ledger()
    {
        // A trainer that cannot read its data fails every attempt with an exception (not a divergence).
        await using var app = await pg.NewLedgerAsync(("Trainer:DatasetDirectory", "/nonexistent/fashion-mnist"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(widths: [8], rates: [0.001]));
        var study = await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromSeconds(60));
        var trial = study["trials"]!.AsArray().ShouldHaveSingleItem()!;
        trial["status"]!.GetValue<string>().ShouldBe("Failed");
        trial["failedAttempts"]!.AsArray().Count.ShouldBe(2);

        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        var attempts = events.Where(e => e!["type"]!.GetValue<string>() == nameof(TrialAttemptFailed)).Select(e => e!["data"]!).ToList();
        attempts.Select(a => a["attempt"]!.GetValue<int>()).ShouldBe([1, 2]);
        var failed = events.Single(e => e!["type"]!.GetValue<string>() == nameof(TrialFailed))!["data"]!;
        failed["attempt"]!.GetValue<int>().ShouldBe(3);
        // The whole exception, stack included, so the failure can be diagnosed from the ledger alone.
        failed["detail"]!.GetValue<string>().ShouldContain("/nonexistent/fashion-mnist");
        failed["detail"]!.GetValue<string>().ShouldContain("at ScalingLedger.Trainer");
        attempts.ShouldAllBe(a => a["detail"]!.GetValue<string>().Contains("at ScalingLedger.Trainer"));
    }

    [Fact]
    public async Task a_coordinate_check_is_recorded_in_the_ledger_and_served_as_data()
    {
        await using var app = await pg.NewLedgerAsync();
        var client = app.CreateClient();
        var spec = StudyApi.TinySpec(widths: [16, 64]);
        spec["model"]!["parameterization"] = "mup";
        spec["model"]!["baseWidth"] = 16;
        var id = await StudyApi.DefineAsync(client, spec);

        var response = await client.PostAsJsonAsync($"/api/studies/{id}/coordinate-checks", new { steps = 3, learningRate = 0.01 });
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var checkId = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["checkId"]!.GetValue<Guid>();

        JsonArray checks = [];
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline && checks.Count == 0)
        {
            await Task.Delay(300);
            checks = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/coordinate-checks");
        }
        var check = checks.ShouldHaveSingleItem()!;
        check["checkId"]!.GetValue<Guid>().ShouldBe(checkId);
        check["parameterization"]!.GetValue<string>().ShouldBe("mup");
        check["layers"]!.AsArray().Count.ShouldBe(3);
        var widths = check["widths"]!.AsArray();
        widths.Select(w => w!["width"]!.GetValue<int>()).ShouldBe([16, 64]);
        widths[0]!["meanAbsActivation"]!.AsArray().Count.ShouldBe(4);

        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        events.Count(e => e!["type"]!.GetValue<string>() == nameof(CoordinateCheckRecorded)).ShouldBe(1);
        // The request was committed first and its command sent by the reconciler, which marked it sent (the ledger is the outbox).
        await using (var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession())
            (await session.LoadAsync<CoordinateCheckDispatch>(checkId)).ShouldNotBeNull();

        var bad = await client.PostAsJsonAsync($"/api/studies/{id}/coordinate-checks", new { steps = 0, widths = new[] { -1 } });
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).ShouldContain("widths");
    }

    [Fact]
    public async Task a_study_interrupted_by_a_restart_resumes_and_completes()
    {
        Guid id;
        string connection;
        // First life: no trainer, the server stops with the whole grid still queued in memory.
        await using (var first = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false")))
        {
            connection = first.ConnectionString;
            id = await StudyApi.DefineAsync(first.CreateClient(), StudyApi.TinySpec());
        }

        // Second life on the same database, with a trainer: the unfinished trials are sent again and run.
        await using var second = new LedgerApp(connection, []);
        var client = second.CreateClient();
        var study = await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromMinutes(3));
        study["trials"]!.AsArray().ShouldAllBe(t => t!["status"]!.GetValue<string>() == "Completed" || t!["status"]!.GetValue<string>() == "Diverged");
        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        events.Count(e => e!["type"]!.GetValue<string>() == nameof(StudyDefined)).ShouldBe(1);
        events.Count(e => e!["type"]!.GetValue<string>() == nameof(TrialStarted)).ShouldBe(4);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Tests;

[Collection(PostgresCollection.Name)]
public sealed class StudyLifecycleTests(PostgresFixture pg)
{
    private static readonly TimeSpan StudyTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task a_defined_study_trains_every_trial_and_records_its_events_fits_and_projection()
    {
        await using var app = await pg.NewLedgerAsync();
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec());

        var study = await StudyApi.WaitForStatusAsync(client, id, "Completed", StudyTimeout);
        var trials = study["trials"]!.AsArray();
        trials.Count.ShouldBe(4);
        trials.Select(t => t!["status"]!.GetValue<string>()).ShouldAllBe(s => s == "Completed" || s == "Diverged");
        trials.Select(t => t!["width"]!.GetValue<int>()).ShouldBe([8, 8, 16, 16]);
        var layers = StudyApi.TinySpec()["model"]!["hiddenLayers"]!.GetValue<int>();
        foreach (var t in trials.Where(t => t!["status"]!.GetValue<string>() == "Completed"))
        {
            t!["finalEvalLoss"]!.GetValue<double>().ShouldBeInRange(0.05, 5.0);
            t["checkpoints"]!.AsArray().Select(c => c!["step"]!.GetValue<int>()).ShouldBe([10, 20, 30]);
            // The trainer's count of its model is the ledger's N (TrialScale: weights and biases).
            t["parameterCount"]!.GetValue<long>().ShouldBe(TrialScale.MlpParameters(784, layers, t["width"]!.GetValue<int>(), 10));
        }
        // Two rates bracket no width's optimum (each best rate is at the grid's edge): the fixed-rate lines are fitted, the laws
        // over optima are not, and the study completes all the same.
        var laws = study["latestFits"]!.AsArray().Select(f => f!["law"]!.GetValue<string>()).ToList();
        laws.ShouldContain("fixed-lr-loglinear");
        laws.ShouldNotContain("optimal-lr");

        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        var types = events.Select(e => e!["type"]!.GetValue<string>()).ToList();
        types[0].ShouldBe(nameof(StudyDefined));
        types.Count(t => t == nameof(TrialStarted)).ShouldBe(4);
        types.Count(t => t == nameof(LossCheckpointRecorded)).ShouldBe(3 * types.Count(t => t == nameof(TrialCompleted)));
        types.ShouldContain(nameof(LawFitted));
        types[^1].ShouldBe(nameof(StudyCompleted));
        var sequences = events.Select(e => e!["sequence"]!.GetValue<long>()).ToList();
        sequences.ShouldBe(sequences.Order());
        // The user who asked is the authenticated one (the local user, access control being off), never a field of the request.
        events[0]!["user"]!.GetValue<string>().ShouldBe("local");
        // Reports are appended in groups, yet each event names who recorded it: the trainer for reports, the reactor for fits.
        events.Where(e => e!["type"]!.GetValue<string>() is nameof(TrialStarted) or nameof(LossCheckpointRecorded) or nameof(TrialCompleted))
            .ShouldAllBe(e => e!["user"]!.GetValue<string>().StartsWith("trainer@"));
        events.Where(e => e!["type"]!.GetValue<string>() == nameof(LawFitted)).ShouldAllBe(e => e!["user"]!.GetValue<string>() == "reactor");
        events.ShouldAllBe(e => e!["stream"]!.GetValue<Guid>() == id);

        // Every fit carries its evidence: the trials and the sequence it saw, which precedes the fit itself.
        var fits = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/fits");
        fits.Count.ShouldBe(types.Count(t => t == nameof(LawFitted)));
        foreach (var f in fits)
        {
            f!["fit"]!["evidenceTrialIds"]!.AsArray().Count.ShouldBeGreaterThan(0);
            f["fit"]!["evidenceSequence"]!.GetValue<long>().ShouldBeLessThan(f["sequence"]!.GetValue<long>());
        }

        var list = await StudyApi.GetArrayAsync(client, "/api/studies");
        var summary = list.Single(s => s!["id"]!.GetValue<Guid>() == id)!;
        summary["status"]!.GetValue<string>().ShouldBe("Completed");
        summary["trialCount"]!.GetValue<int>().ShouldBe(4);
    }

    [Fact]
    public async Task as_of_an_earlier_sequence_returns_the_study_as_it_was_then()
    {
        await using var app = await pg.NewLedgerAsync();
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(widths: [8], rates: [0.001, 0.003]));
        await StudyApi.WaitForStatusAsync(client, id, "Completed", StudyTimeout);

        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        long SequenceOf(string type, int nth = 0) =>
            events.Where(e => e!["type"]!.GetValue<string>() == type).ElementAt(nth)!["sequence"]!.GetValue<long>();

        var atDefinition = await StudyApi.GetAsync(client, $"/api/studies/{id}?asOf={SequenceOf(nameof(StudyDefined))}");
        atDefinition["status"]!.GetValue<string>().ShouldBe("Running");
        atDefinition["trials"]!.AsArray().ShouldAllBe(t => t!["status"]!.GetValue<string>() == "Scheduled");

        var firstEnd = SequenceOf(nameof(TrialCompleted));
        var afterFirst = await StudyApi.GetAsync(client, $"/api/studies/{id}?asOf={firstEnd}");
        var statuses = afterFirst["trials"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).ToList();
        statuses[0].ShouldBe("Completed");
        statuses[1].ShouldBeOneOf("Scheduled", "Running");
        afterFirst["lastSequence"]!.GetValue<long>().ShouldBe(firstEnd);

        var now = await StudyApi.GetAsync(client, $"/api/studies/{id}");
        now["status"]!.GetValue<string>().ShouldBe("Completed");

        (await client.GetAsync($"/api/studies/{id}?asOf=0")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync($"/api/studies/{id}?asOf=-3")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task an_invalid_spec_gets_400_naming_every_bad_field_and_stores_nothing()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var spec = StudyApi.TinySpec();
        spec["dataset"] = "cifar-100";
        spec["steps"] = 0;
        spec["model"]!["widths"] = new JsonArray();
        spec["optimizer"]!["learningRates"] = new JsonArray(0.001, -1.0);

        var response = await client.PostAsJsonAsync("/api/studies", spec);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        problem["errors"]!.AsObject().Select(e => e.Key)
            .ShouldBe(["dataset", "model.widths", "optimizer.learningRates[1]", "steps"], ignoreOrder: true);
        problem["errors"]!["dataset"]![0]!.GetValue<string>().ShouldContain("cifar-100");

        var malformed = await client.PostAsync("/api/studies",
            new StringContent("{\"name\": \"x\", \"steps\": \"many\"}", System.Text.Encoding.UTF8, "application/json"));
        malformed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await malformed.Content.ReadAsStringAsync()).ShouldContain("steps");

        (await StudyApi.GetArrayAsync(client, "/api/studies")).Count.ShouldBe(0);
    }

    [Fact]
    public async Task cancelling_a_study_cancels_its_queued_trials()
    {
        // No trainer: the commands wait in the queue, as on a busy cluster.
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec());

        var response = await client.PostAsync($"/api/studies/{id}/cancel?reason=test", null);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var study = await StudyApi.GetAsync(client, $"/api/studies/{id}");
        study["status"]!.GetValue<string>().ShouldBe("Cancelled");
        study["trials"]!.AsArray().ShouldAllBe(t => t!["status"]!.GetValue<string>() == "Cancelled");
        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        events.Select(e => e!["type"]!.GetValue<string>()).ShouldBe(
            [nameof(StudyDefined), nameof(StudyCancelled), .. Enumerable.Repeat(nameof(TrialCancelled), 4)]);
        events[1]!["data"]!["reason"]!.GetValue<string>().ShouldBe("test");

        (await client.PostAsync($"/api/studies/{Guid.NewGuid()}/cancel", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync($"/api/studies/{Guid.NewGuid()}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task a_redelivered_report_is_recorded_once()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec());
        var trialId = (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]![0]!["trialId"]!.GetValue<Guid>();

        // The same report delivered twice through the transport, as a broker redelivers it.
        var bus = app.Services.GetRequiredService<MassTransit.IBus>();
        // Each names its run, as every trainer's do: a checkpoint that overtakes the start waits for it.
        var run = Guid.NewGuid();
        await bus.Publish(new TrialStarted(id, trialId, 1, "w", "h", 1, "0.107", DateTimeOffset.UtcNow, RunId: run),
            c => c.Headers.Set(ReportHeaders.Run, run));
        var checkpoint = new LossCheckpointRecorded(id, trialId, 10, 1.2, 1.1, 0.6, DateTimeOffset.UtcNow);
        await bus.Publish(checkpoint, c => c.Headers.Set(ReportHeaders.Run, run));
        await bus.Publish(checkpoint, c => c.Headers.Set(ReportHeaders.Run, run));
        await bus.Publish(checkpoint with { Step = 20 }, c => c.Headers.Set(ReportHeaders.Run, run));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonArray events;
        do
        {
            await Task.Delay(100);
            events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        } while (events.Count(e => e!["type"]!.GetValue<string>() == nameof(LossCheckpointRecorded)) < 2 && DateTime.UtcNow < deadline);
        // Reports are recorded one at a time in arrival order: step 20 came after both copies of step 10.
        events.Where(e => e!["type"]!.GetValue<string>() == nameof(LossCheckpointRecorded))
            .Select(e => e!["data"]!["step"]!.GetValue<int>()).ShouldBe([10, 20]);

        // A large study's curves can be left out of the read: its last point, or none of it.
        JsonNode Trial(JsonObject study) => study["trials"]!.AsArray().Single(t => t!["trialId"]!.GetValue<Guid>() == trialId)!;
        Trial(await StudyApi.GetAsync(client, $"/api/studies/{id}"))["checkpoints"]!.AsArray().Count.ShouldBe(2);
        Trial(await StudyApi.GetAsync(client, $"/api/studies/{id}?checkpoints=last"))["checkpoints"]!.AsArray()
            .Select(c => c!["step"]!.GetValue<int>()).ShouldBe([20]);
        Trial(await StudyApi.GetAsync(client, $"/api/studies/{id}?checkpoints=none"))["checkpoints"]!.AsArray().ShouldBeEmpty();
        (await client.GetAsync($"/api/studies/{id}?checkpoints=every")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task health_answers_and_the_openapi_document_lists_the_api()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        // A Server answers 503 "warming" until its warm-up ends (LedgerWarmup); on a loaded machine that outlasts the first request.
        await StudyApi.WaitHealthyAsync(client, TimeSpan.FromMinutes(1));
        (await StudyApi.GetAsync(client, "/health"))["status"]!.GetValue<string>().ShouldBe("healthy");
        var openApi = await client.GetStringAsync("/openapi/v1.json");
        openApi.ShouldContain("/api/studies/{id}/events");
    }
}

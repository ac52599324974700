using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Tests;

/// <summary>Fits, predictions and their audit through the API; runs trained elsewhere imported from CSV.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ScienceApiTests(PostgresFixture pg)
{
    [Fact]
    public async Task predictions_are_issued_before_a_width_is_trained_resolved_after_and_every_audit_verifies()
    {
        await using var app = await pg.NewLedgerAsync();
        var client = app.CreateClient();
        var spec = StudyApi.TinySpec(widths: [8, 16, 32, 64], rates: [0.003, 0.01], steps: 120);
        spec["seeds"] = new JsonArray(0, 1);
        var id = await StudyApi.DefineAsync(client, spec);
        var study = await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromMinutes(3));

        var predictions = study["predictions"]!.AsArray();
        predictions.Count.ShouldBeGreaterThan(0);
        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        long SequenceOf(Func<JsonNode, bool> match) => events.First(e => match(e!))!["sequence"]!.GetValue<long>();

        // A prediction about a planned width was issued from the smaller widths (by the reactor, beside the trials), before
        // any trial of that width started, and resolved after it was trained. (The reactor also predicts widths whose
        // trials are running but unfinished; those are not the ones this checks.)
        long FirstStartAt(int width) => SequenceOf(e => e["type"]!.GetValue<string>() == nameof(TrialStarted)
            && study["trials"]!.AsArray().Any(t => t!["trialId"]!.GetValue<Guid>() == e["data"]!["trialId"]!.GetValue<Guid>()
                && t["width"]!.GetValue<int>() == width));
        long EventOf(string type, Guid predictionId) =>
            SequenceOf(e => e["type"]!.GetValue<string>() == type && e["data"]!["predictionId"]!.GetValue<Guid>() == predictionId);
        var early = predictions.Select(p => p!).Where(p => p["issued"]!["reason"]!.GetValue<string>() == "planned" && p["resolution"] is not null)
            .First(p => EventOf(nameof(PredictionIssued), p["issued"]!["predictionId"]!.GetValue<Guid>())
                < FirstStartAt((int)p["issued"]!["width"]!.GetValue<double>()));
        var predictionId = early["issued"]!["predictionId"]!.GetValue<Guid>();
        var firstWide = FirstStartAt((int)early["issued"]!["width"]!.GetValue<double>());
        var issuedAt = EventOf(nameof(PredictionIssued), predictionId);
        var resolvedAt = EventOf(nameof(PredictionResolved), predictionId);
        issuedAt.ShouldBeLessThan(firstWide);
        resolvedAt.ShouldBeGreaterThan(firstWide);
        early["resolution"]!["observedTrialIds"]!.AsArray().Count.ShouldBeGreaterThan(0);
        study["calibration"]!.AsArray().ShouldNotBeEmpty();

        // Every prediction's audit re-derives its fit from exactly its evidence.
        foreach (var p in predictions.Take(40))
        {
            var audit = await StudyApi.GetAsync(client, $"/api/predictions/{p!["issued"]!["predictionId"]!.GetValue<Guid>()}");
            audit["verified"]!.GetValue<bool>().ShouldBeTrue(audit["differences"]!.ToJsonString());
            audit["evidenceTrials"]!.AsArray().Count.ShouldBe(audit["fit"]!["evidenceTrialIds"]!.AsArray().Count);
            audit["fit"]!["fitId"]!.GetValue<Guid>().ShouldBe(audit["prediction"]!["fitId"]!.GetValue<Guid>());
        }
        (await client.GetAsync($"/api/predictions/{Guid.NewGuid()}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task importing_the_chinchilla_runs_reproduces_the_replication_estimates()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        // As Besiroglu et al. (2024) do: drop the 5 runs with the highest loss, keep the other 240.
        var lines = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "Data", "svg_extracted_data.csv"));
        var lossColumn = Array.IndexOf(lines[0].Split(','), "loss");
        var kept = lines.Skip(1).Where(l => l.Trim().Length > 0)
            .OrderBy(l => double.Parse(l.Split(',')[lossColumn], CultureInfo.InvariantCulture)).SkipLast(5).ToList();
        kept.Count.ShouldBe(240);
        var csv = string.Join('\n', [lines[0], .. kept]);

        var response = await client.PostAsync("/api/studies/import?name=chinchilla&owner=epoch", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToJsonString());
        body["runs"]!.GetValue<int>().ShouldBe(240);
        body["ignoredColumns"]!.AsArray().Select(c => c!.GetValue<string>()).ShouldContain("hex_color");

        var study = await StudyApi.GetAsync(client, $"/api/studies/{body["id"]!.GetValue<Guid>()}");
        study["source"]!.GetValue<string>().ShouldBe("imported");
        study["status"]!.GetValue<string>().ShouldBe("Completed");
        var fit = study["latestFits"]!.AsArray().Single(f => f!["law"]!.GetValue<string>() == "chinchilla")!;
        fit["converged"]!.GetValue<bool>().ShouldBeTrue();
        var p = fit["parameters"]!;
        // Published (Besiroglu et al. 2024, table 1): E 1.8172, A 482.01, B 2085.43, alpha 0.3478, beta 0.3658, with
        // standard errors 0.03, 124.58, 1293.23, 0.02, 0.02. Tolerances: exponents 0.01 (half an SE), E 0.02,
        // A and B 10% (well inside their SEs of 26% and 62%).
        p["E"]!.GetValue<double>().ShouldBe(1.8172, 0.02);
        p["alpha"]!.GetValue<double>().ShouldBe(0.3478, 0.01);
        p["beta"]!.GetValue<double>().ShouldBe(0.3658, 0.01);
        p["A"]!.GetValue<double>().ShouldBe(482.01, 48.2);
        p["B"]!.GetValue<double>().ShouldBe(2085.43, 208.5);
        fit["intervals"]!["alpha"]!["lower"]!.GetValue<double>().ShouldBeLessThan(0.3478);
        fit["intervals"]!["alpha"]!["upper"]!.GetValue<double>().ShouldBeGreaterThan(0.3478);
        fit["points"]!.AsArray().Count.ShouldBe(240);
    }

    [Fact]
    public async Task a_bad_csv_is_refused_naming_the_line_and_nothing_is_stored()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var response = await client.PostAsync("/api/studies/import?name=broken",
            new StringContent("width,learningRate,loss\n32,0.001,0.4\n64,0.001,oops\n", Encoding.UTF8, "text/csv"));
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        problem["errors"]!["line 3"]![0]!.GetValue<string>().ShouldContain("loss: 'oops' is not a number");

        var unnamed = await client.PostAsync("/api/studies/import", new StringContent("width,loss\n32,0.4\n", Encoding.UTF8, "text/csv"));
        unnamed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unnamed.Content.ReadAsStringAsync()).ShouldContain("name");
        (await StudyApi.GetArrayAsync(client, "/api/studies")).Count.ShouldBe(0);

        // A good width-and-rate CSV becomes a study whose fixed-LR laws are fitted.
        var ok = await client.PostAsync("/api/studies/import?name=elsewhere",
            new StringContent("width,learningRate,seed,loss\n32,0.001,0,0.41\n64,0.001,0,0.38\n128,0.001,0,0.36\n", Encoding.UTF8, "text/csv"));
        ok.StatusCode.ShouldBe(HttpStatusCode.Created);
        var id = JsonNode.Parse(await ok.Content.ReadAsStringAsync())!["id"]!.GetValue<Guid>();
        var study = await StudyApi.GetAsync(client, $"/api/studies/{id}");
        study["latestFits"]!.AsArray().Select(f => f!["law"]!.GetValue<string>()).ShouldContain("fixed-lr-loglinear");
    }
}

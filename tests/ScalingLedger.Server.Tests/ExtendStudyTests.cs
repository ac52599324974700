using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Extending a study where its laws point (<c>POST /api/studies/{id}/extend</c>): trained for real, the new width's predictions are
/// recorded before its trials start and resolve when they end; who may extend, and what a bad request gets, with nothing stored.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ExtendStudyTests(PostgresFixture pg)
{
    private static readonly TimeSpan StudyTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task a_completed_study_extended_by_a_width_runs_it_at_the_laws_rates_predicted_before_its_trials_start()
    {
        await using var app = await pg.NewLedgerAsync();
        var client = app.CreateClient();
        // Rates a decade apart bracket every tiny width's best rate: the optimal-LR law is fitted, with an interval from two seeds.
        var spec = StudyApi.TinySpec("extend-me", widths: [2, 3, 4, 5], rates: [0.0003, 0.003, 0.03, 0.3], steps: 20);
        spec["seeds"] = new JsonArray(0, 1);
        var id = await StudyApi.DefineAsync(client, spec);
        var before = await StudyApi.WaitForStatusAsync(client, id, "Completed", StudyTimeout);
        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromMinutes(1));

        var response = await client.PostAsJsonAsync($"/api/studies/{id}/extend", new { widths = new[] { 8 }, reason = "where the law points" });
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, body);
        var answer = JsonNode.Parse(body)!;
        var width = answer["widths"]!.AsArray().Single()!;
        width["width"]!.GetValue<int>().ShouldBe(8);
        var rates = width["rates"]!.AsArray().Select(r => (Rate: r!["learningRate"]!.GetValue<double>(), Why: r["why"]!.GetValue<string>())).ToList();
        rates.Count(r => r.Why != "fixed").ShouldBeGreaterThanOrEqualTo(3);
        var naive = before["trials"]!.AsArray().Where(t => t!["width"]!.GetValue<int>() == 2 && t["status"]!.GetValue<string>() == "Completed")
            .GroupBy(t => t!["learningRate"]!.GetValue<double>()).MinBy(g => g.Average(t => t!["finalEvalLoss"]!.GetValue<double>()))!.Key;
        rates.ShouldContain(r => r.Rate == naive && r.Why != "ladder");
        answer["trials"]!.GetValue<int>().ShouldBe(rates.Count * 2);
        answer["predictions"]!.GetValue<int>().ShouldBeGreaterThan(0);

        var study = await StudyApi.WaitForStatusAsync(client, id, "Completed", StudyTimeout);
        var added = study["trials"]!.AsArray().Where(t => t!["width"]!.GetValue<int>() == 8).ToList();
        added.Count.ShouldBe(rates.Count * 2);
        added.ShouldAllBe(t => t!["status"]!.GetValue<string>() == "Completed" || t["status"]!.GetValue<string>() == "Diverged");
        var extension = study["extensions"]!.AsArray().Single()!;
        (extension["by"]!.GetValue<string>(), extension["reason"]!.GetValue<string>()).ShouldBe(("local", "where the law points"));
        study["spec"]!["model"]!["widths"]!.AsArray().Select(w => w!.GetValue<int>()).ShouldBe([2, 3, 4, 5, 8]);

        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        var extended = events.Single(e => e!["type"]!.GetValue<string>() == nameof(StudyExtended))!;
        extended["user"]!.GetValue<string>().ShouldBe("local");
        extended["data"]!["widths"]![0]!["law"]!.GetValue<string>().ShouldBeOneOf("optimal-lr", "width-lr-surface");
        var newTrials = added.Select(t => t!["trialId"]!.GetValue<Guid>()).ToHashSet();
        var firstStart = events
            .Where(e => e!["type"]!.GetValue<string>() == nameof(TrialStarted) && newTrials.Contains(e["data"]!["trialId"]!.GetValue<Guid>()))
            .Min(e => e!["sequence"]!.GetValue<long>());
        var atEight = study["predictions"]!.AsArray().Where(p => p!["issued"]!["width"]!.GetValue<double>() == 8).ToList();
        atEight.ShouldNotBeEmpty();
        atEight.ShouldAllBe(p => p!["issuedSequence"]!.GetValue<long>() < firstStart);
        // The naive rate's fixed-rate claim at width 8 is observed by the trials trained at it, and resolved.
        var fixedClaim = atEight.Where(p => p!["issued"]!["law"]!.GetValue<string>() == "fixed-lr-loglinear"
                                            && p["issued"]!["learningRate"]!.GetValue<double>() == naive).ToList();
        fixedClaim.ShouldNotBeEmpty();
        fixedClaim.ShouldAllBe(p => p!["resolution"] != null);
        // A prediction made as the study was extended is audited like any: its fit re-derived from its evidence, claims included.
        var audit = await StudyApi.GetAsync(client, $"/api/predictions/{fixedClaim[0]!["issued"]!["predictionId"]}");
        audit["verified"]!.GetValue<bool>().ShouldBeTrue(audit["differences"]!.ToJsonString());
        (await StudyApi.GetAsync(client, $"/api/studies/{id}/verify"))["intact"]!.GetValue<bool>().ShouldBeTrue();

        // The study page says who extended it, why, and at which rates.
        var page = await client.GetStringAsync($"/studies/{id}");
        page.ShouldContain("Extended</span>by local");
        page.ShouldContain("why: where the law points");
        page.ShouldContain($"width 8: ");
    }

    [Fact]
    public async Task only_those_who_manage_a_study_extend_it_and_a_bad_request_is_refused_by_field_with_nothing_stored()
    {
        const string adminSecret = "admin-secret-for-tests-0123456789";
        await using var app = await pg.NewLedgerAsync(("Ledger:AccessControl", "true"), ("Ledger:AdminToken", adminSecret),
            ("Ledger:EmbeddedTrainer", "false"));
        var admin = Client(app, adminSecret);
        var alice = Client(app, await TokenAsync(admin, "alice", "researcher"));
        var bob = Client(app, await TokenAsync(admin, "bob", "researcher"));
        var carol = Client(app, await TokenAsync(admin, "carol", "reader"));
        var id = await StudyApi.DefineAsync(alice, StudyApi.TinySpec("not-yours", widths: [8, 16]));
        var events = (await StudyApi.GetArrayAsync(alice, $"/api/studies/{id}/events")).Count;

        async Task<JsonNode> Refused(HttpClient who, object body, HttpStatusCode status)
        {
            var response = await who.PostAsJsonAsync($"/api/studies/{id}/extend", body);
            var text = await response.Content.ReadAsStringAsync();
            response.StatusCode.ShouldBe(status, text);
            (await StudyApi.GetArrayAsync(alice, $"/api/studies/{id}/events")).Count.ShouldBe(events);
            return JsonNode.Parse(text)!;
        }

        await Refused(carol, new { widths = new[] { 32 } }, HttpStatusCode.Forbidden);
        await Refused(bob, new { widths = new[] { 32 } }, HttpStatusCode.Forbidden);
        var bad = await Refused(alice, new { widths = new[] { 16, 0 }, seeds = new[] { -1 }, fixedRates = new[] { -0.1 }, reason = "a\u0007b" },
            HttpStatusCode.BadRequest);
        bad["errors"]!.AsObject().Select(e => e.Key).ShouldBe(["widths[0]", "widths[1]", "seeds[0]", "fixedRates[0]", "reason"], ignoreOrder: true);
        bad["errors"]!["widths[0]"]![0]!.GetValue<string>().ShouldContain("already in the study");
        (await Refused(alice, new { widths = Enumerable.Range(0, 9).Select(i => 32 + i).ToArray() }, HttpStatusCode.BadRequest))["errors"]!["widths"]
            .ShouldNotBeNull();
        (await Refused(alice, new { seeds = new[] { 0 } }, HttpStatusCode.BadRequest))["errors"]!["widths"].ShouldNotBeNull();
        // Nothing trained yet: no law claims a best rate at 32, so the rule has nothing to centre a ladder on.
        var why = await Refused(alice, new { widths = new[] { 32 } }, HttpStatusCode.Conflict);
        why["detail"]!.GetValue<string>().ShouldContain("optimal-lr");
        (await alice.PostAsJsonAsync($"/api/studies/{Guid.NewGuid()}/extend", new { widths = new[] { 32 } })).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    private static HttpClient Client(LedgerApp app, string token)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<string> TokenAsync(HttpClient admin, string subject, string role)
    {
        var response = await admin.PostAsJsonAsync("/api/tokens", new { subject, role });
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
        return JsonNode.Parse(body)!["token"]!.GetValue<string>();
    }
}

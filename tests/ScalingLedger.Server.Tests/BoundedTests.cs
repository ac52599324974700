using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Cli;
using ScalingLedger.Cli.Reports;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Bounded for everyone: the study list is paged, reads of whole studies take turns, an anonymous health check writes nothing,
/// and a body too large or malformed is a 413 or a 400 that names why, never a 500, on every endpoint that reads one.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BoundedTests(PostgresFixture pg)
{
    [Fact]
    public async Task the_study_list_is_paged_newest_first_with_the_next_page_named()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++) ids.Add(await StudyApi.ImportAsync(client, $"study-{i}"));

        var first = await client.GetAsync("/api/studies?limit=2");
        var page = JsonNode.Parse(await first.Content.ReadAsStringAsync())!.AsArray();
        page.Select(s => s!["id"]!.GetValue<Guid>()).ShouldBe([ids[2], ids[1]]);
        first.Headers.GetValues("Link").Single().ShouldBe("</api/studies?offset=2&limit=2>; rel=\"next\"");
        var last = await client.GetAsync("/api/studies?offset=2&limit=2");
        JsonNode.Parse(await last.Content.ReadAsStringAsync())!.AsArray().Select(s => s!["id"]!.GetValue<Guid>()).ShouldBe([ids[0]]);
        last.Headers.Contains("Link").ShouldBeFalse();
        (await client.GetAsync("/api/studies?limit=100000")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await client.GetAsync("/api/studies?offset=-1")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await StudyApi.GetArrayAsync(client, "/api/studies")).Count.ShouldBe(3, "a default page holds them all here");
    }

    [Fact]
    public async Task reads_of_whole_studies_take_turns_and_past_the_queue_are_told_when_to_come_back()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.ImportAsync(client, "whole");
        var heavy = app.Services.GetRequiredService<HeavyReads>();
        // Every turn and every place in the queue taken (as by readers replaying big studies).
        var held = new List<IDisposable>();
        for (var i = 0; i < HeavyReads.AtOnce; i++) held.Add((await heavy.EnterAsync(default))!);
        var queued = Enumerable.Range(0, HeavyReads.Queued).Select(_ => heavy.EnterAsync(default)).ToList();
        foreach (var path in new[] { $"/api/studies/{id}?asOf=1000", $"/api/studies/{id}?checkpoints=all", $"/api/studies/{id}/fits",
                     $"/api/studies/{id}/export" })
        {
            var busy = await client.GetAsync(path);
            busy.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, path);
            busy.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(HeavyReads.RetryAfterSeconds));
        }
        // Light reads go on meanwhile.
        (await client.GetAsync($"/api/studies/{id}?checkpoints=last")).StatusCode.ShouldBe(HttpStatusCode.OK);
        foreach (var turn in held) turn.Dispose();
        // Those waiting get their turns one after another.
        foreach (var waiting in queued) (await waiting)!.Dispose();
        (await client.GetAsync($"/api/studies/{id}?asOf=1000")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync($"/api/studies/{id}/fits")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task an_anonymous_health_check_writes_nothing_and_a_users_proves_the_database_takes_writes()
    {
        const string admin = "admin-secret-for-tests-0123456789";
        await using var app = await pg.NewLedgerAsync(("Ledger:AccessControl", "true"), ("Ledger:AdminToken", admin), ("Ledger:EmbeddedTrainer", "false"));
        var anonymous = app.CreateClient();
        var store = app.Services.GetRequiredService<IDocumentStore>();
        async Task<int> Probes()
        {
            await using var session = store.QuerySession();
            return await session.Query<HealthProbe>().CountAsync();
        }
        // Warm first (503 "warming" until then; an anonymous check writes nothing either way).
        await StudyApi.WaitHealthyAsync(anonymous, TimeSpan.FromMinutes(1));
        var before = await Probes();
        for (var i = 0; i < 20; i++)
            (await StudyApi.GetAsync(anonymous, "/health"))["database"]!["readMs"].ShouldNotBeNull();
        (await Probes()).ShouldBe(before, "anonymous checks wrote nothing");
        var user = app.CreateClient();
        user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        (await StudyApi.GetAsync(user, "/health"))["database"]!["writeMs"].ShouldNotBeNull();
        (await Probes()).ShouldBe(1);
    }

    [Fact]
    public async Task a_body_too_large_or_malformed_is_a_413_or_400_on_every_endpoint_never_a_500()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        // Over real HTTP: the in-process test server has no body size limit, Kestrel has.
        using var client = new HttpClient { BaseAddress = new Uri(app.StartOnKestrel()), Timeout = TimeSpan.FromMinutes(2) };
        // As curl does with a large body: the server may answer (413) before the body is sent, and the client reads that answer.
        client.DefaultRequestHeaders.ExpectContinue = true;
        var id = await StudyApi.ImportAsync(client, "target");
        var big = "{\"name\":\"" + new string('x', 31 << 20) + "\"}";
        // Sent in chunks as well (no length given: the body is read up to the limit, then refused).
        foreach (var chunkedBody in new[] { false, true })
            foreach (var path in new[] { "/api/studies", $"/api/studies/{id}/cancel", $"/api/studies/{id}/grants", "/api/tokens" })
            {
                var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(big, Encoding.UTF8, "application/json") };
                request.Headers.TransferEncodingChunked = chunkedBody;
                var response = await client.SendAsync(request);
                response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge,
                    $"{path} (chunked: {chunkedBody}): {await response.Content.ReadAsStringAsync()}");
            }
        // A CSV sent in chunks (no length given), past the limit, on one line.
        var csv = new StringContent("width,loss\n" + new string('6', 31 << 20) + ",1\n", Encoding.UTF8, "text/csv");
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/studies/import?name=big") { Content = csv };
        chunked.Headers.TransferEncodingChunked = true;
        var tooLarge = await client.SendAsync(chunked);
        tooLarge.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge, await tooLarge.Content.ReadAsStringAsync());

        // A key given twice, a NUL, a body that is not JSON.
        var spec = StudyApi.TinySpec("dup").ToJsonString();
        foreach (var (path, body, says) in new[]
                 {
                     ("/api/studies", spec.Replace("\"name\":\"dup\"", "\"name\":\"dup\",\"name\":\"other\""), "Duplicate"),
                     ("/api/studies", spec.Replace("\"name\":\"dup\"", "\"name\":\"a\\u0000b\""), "NUL"),
                     ($"/api/studies/{id}/cancel", "{\"reason\":\"a\",\"reason\":\"b\"}", "Duplicate"),
                     ($"/api/studies/{id}/grants", "{\"user\":", ""),
                     ("/api/studies/import-events", "{\"format\":\"scalingledger-study-events/2\",\"format\":\"x\"}", "Duplicate"),
                 })
        {
            var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, $"{path} {body[..Math.Min(60, body.Length)]}: {text}");
            text.ShouldContain(says);
        }
        (await StudyApi.GetArrayAsync(client, "/api/studies")).Count.ShouldBe(1, "nothing of a refused body was stored");
    }

    [Fact]
    public async Task a_body_of_the_wrong_shape_is_a_400_naming_its_field_on_every_endpoint_that_binds_one()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        using var client = app.CreateClient();
        var id = await StudyApi.ImportAsync(client, "target");
        foreach (var (path, body, field) in new[]
                 {
                     ($"/api/studies/{id}/grants", "{\"user\":5,\"permission\":\"manage\"}", "user"),
                     ($"/api/studies/{id}/extend", "{\"widths\":\"wide\"}", "widths"),
                     ($"/api/studies/{id}/coordinate-checks", "{\"widths\":[64],\"steps\":\"many\"}", "steps"),
                     // A number is a number: "100" in quotes is text (LedgerJson reads numbers strictly), as the document says.
                     ($"/api/studies/{id}/coordinate-checks", "{\"widths\":[64],\"steps\":\"100\"}", "steps"),
                     ("/api/studies", "{\"name\":\"n\",\"steps\":\"100\"}", "steps"),
                     ("/api/tokens", "{\"subject\":[\"a\"],\"role\":\"reader\"}", "subject"),
                     ("/api/trusted-ledgers", "{\"name\":{},\"publicKey\":\"k\"}", "name"),
                 })
        {
            var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, $"{path} {body}: {text}");
            response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"], "an answer of the exception handler keeps the browser's boundary");
            var problem = JsonNode.Parse(text)!;
            // Parenthesised: a null-conditional chain would skip the assertion itself when "errors" is missing.
            (problem["errors"]?[field]).ShouldNotBeNull($"{path} {body} names {field}: {text}");
        }
        (await StudyApi.GetArrayAsync(client, "/api/studies")).Count.ShouldBe(1, "nothing of a refused body was stored");
        (await StudyApi.GetArrayAsync(client, "/api/tokens")).ShouldBeEmpty();
    }

    [Fact]
    public async Task a_sign_in_that_names_a_return_address_with_a_control_character_goes_to_the_studies()
    {
        const string admin = "admin-secret-for-tests-0123456789";
        await using var app = await pg.NewLedgerAsync(("Ledger:AccessControl", "true"), ("Ledger:AdminToken", admin), ("Ledger:EmbeddedTrainer", "false"));
        var browser = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var signedIn = await SiteSession.SignInAsync(browser, admin, returnUrl: "/\tstudies");
        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signedIn.Headers.Location!.ToString().ShouldBe("/studies");
    }

    [Fact]
    public void a_csv_cell_a_spreadsheet_would_run_is_kept_as_text_and_a_terminal_sees_escapes_not_controls()
    {
        TrialRow.Quoted("=HYPERLINK(\"http://x\",\"y\")").ShouldBe("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
        TrialRow.Quoted("@SUM(A1)").ShouldBe("'@SUM(A1)");
        TrialRow.Quoted("-1+1").ShouldBe("'-1+1");
        TrialRow.Quoted("diverged at step 3").ShouldBe("diverged at step 3");
        Printable.Text("\u001b[2J\u001b[Hcleared").ShouldBe("\\u001B[2J\\u001B[Hcleared");
        Printable.Text("a\u202Eb").ShouldBe("a\\u202Eb");
        Printable.Text("line\nbreak").ShouldBe("line\\u000Abreak");
        Printable.Text("line\nbreak", lines: true).ShouldBe("line\nbreak");
        Printable.Text("µ-law 😀").ShouldBe("µ-law 😀");
        var writer = new StringWriter();
        new PrintableWriter(writer).WriteLine("\u0007bell");
        writer.ToString().ShouldBe("\\u0007bell" + Environment.NewLine);
    }
}

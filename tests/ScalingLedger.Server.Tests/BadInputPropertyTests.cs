using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Bad input, generated: specs, CSVs, query strings and trainer reports holding malformed JSON, wrong types, 1e400,
/// negative and zero values, oversized sizes and strings, unknown ids, control and bidirectional characters and script
/// in every name. Each gets a 4xx that names what is wrong (or is refused by the consumer); the Server keeps serving and
/// the store holds nothing of them (its events counted before and after).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BadInputPropertyTests(PostgresFixture pg)
{
    private static readonly string[] NastyStrings =
    [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a\u0000b", "\u202Eevil", "bell\u0007", "", " ", new string('a', 5_000),
        "NaN", "Infinity", "-1", "0", "1e400", "null", "\"", "\\", "../../etc/passwd", "'; drop table ledger.mt_events; --", "名前",
    ];

    /// <summary>A JSON value of any type, mostly wrong for where it goes (a new node each time: nodes have one parent).</summary>
    private static readonly Gen<Func<JsonNode?>> Value = Gen.OneOf(
        Gen.OneOf(NastyStrings).Select(s => (Func<JsonNode?>)(() => JsonValue.Create(s))),
        Gen.OneOf(0, -1, -100, int.MaxValue, int.MinValue, 1, 3).Select(i => (Func<JsonNode?>)(() => JsonValue.Create(i))),
        Gen.OneOf(0.0, -0.001, 1e300, -1e300, 1e-300, 101.0).Select(d => (Func<JsonNode?>)(() => JsonValue.Create(d))),
        Make(() => null),
        Make(() => new JsonArray()),
        Make(() => new JsonArray(1, -2, 100_000_000)),
        Make(() => new JsonArray(Enumerable.Range(1, 5_000).Select(i => (JsonNode)i).ToArray())),
        Make(() => new JsonObject { ["x"] = 1 }));

    private static Gen<Func<JsonNode?>> Make(Func<JsonNode?> value) => Gen.Const<Func<JsonNode?>>(value);

    private static readonly string[] SpecPaths =
    [
        "name", "owner", "dataset", "model", "model.family", "model.hiddenLayers", "model.widths", "model.parameterization", "model.baseWidth",
        "optimizer", "optimizer.name", "optimizer.learningRates", "seeds", "steps", "batchSize", "evalEvery", "targetWidths",
    ];

    private static JsonObject Mutate(JsonObject spec, string path, JsonNode? value)
    {
        var parts = path.Split('.');
        var parent = parts.Length == 1 ? spec : spec[parts[0]] as JsonObject;
        parent?[parts[^1]] = value;
        return spec;
    }

    /// <summary>A spec with one to three fields set to generated values, sent as JSON; or a body that is not a spec at all.</summary>
    private static readonly Gen<string> SpecBody = Gen.OneOf(
        Gen.Select(Gen.OneOf(SpecPaths), Value).List[1, 3].Select(changes =>
            changes.Aggregate(StudyApi.TinySpec(), (spec, c) => Mutate(spec, c.Item1, c.Item2())).ToJsonString()),
        Gen.Int[1, 200].Select(n => StudyApi.TinySpec().ToJsonString()[..n]),
        Gen.OneOf("""{"steps": 1e400}""", "[]", "null", "\"spec\"", "{\"name\":\"a\u0000\"}", "{", "", "<html>"));

    private static async Task<long> EventsAsync(LedgerApp app)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from ledger.mt_events", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static async Task<JsonNode?> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try { return JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    [Fact]
    public async Task generated_specs_are_refused_naming_the_field_or_define_a_study_and_nothing_else_is_stored()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var before = await EventsAsync(app);
        var created = 0;
        await SpecBody.SampleAsync(async body =>
        {
            var response = await client.PostAsync("/api/studies", new StringContent(body, Encoding.UTF8, "application/json"));
            var status = (int)response.StatusCode;
            if (status == 201)
            {
                created++;
                return;
            }
            status.ShouldBe(400, body);
            var errors = (await BodyAsync(response))!["errors"]!.AsObject();
            errors.Count.ShouldBeGreaterThan(0, body);
        }, iter: 150, threads: 1);
        (await EventsAsync(app)).ShouldBe(before + created);
        (await client.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static readonly Gen<string> Cell = Gen.OneOf(
        Gen.Double[-10, 1e6].Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.OneOf("NaN", "1e400", "-1", "0", "", "\"3\"", "x", "<b>", "1,5", "\u0000", new string('9', 400)));

    private static readonly Gen<string> Csv = Gen.Select(
            Gen.OneOf("width", "params", "tokens", "learningRate", "seed", "loss", "notes", "<script>", "").Array[1, 6],
            Cell.Array[0, 6].Array[0, 12])
        .Select((header, rows) => string.Join(",", header) + "\n" + string.Join("\n", rows.Select(r => string.Join(",", r))));

    [Fact]
    public async Task generated_csvs_and_names_are_refused_naming_the_line_or_field_or_imported_whole()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var studiesBefore = (await StudyApi.GetArrayAsync(client, "/api/studies")).Count;
        var imported = 0;
        await Gen.Select(Csv, Gen.OneOf(NastyStrings), Gen.OneOf(NastyStrings)).SampleAsync(async (csv, name, owner) =>
        {
            var response = await client.PostAsync($"/api/studies/import?name={Uri.EscapeDataString(name)}&owner={Uri.EscapeDataString(owner)}",
                new StringContent(csv, Encoding.UTF8, "text/csv"));
            var status = (int)response.StatusCode;
            if (status == 201)
            {
                imported++;
                return;
            }
            status.ShouldBe(400, csv);
            (await BodyAsync(response))!["errors"]!.AsObject().Count.ShouldBeGreaterThan(0, csv);
        }, iter: 150, threads: 1);
        (await StudyApi.GetArrayAsync(client, "/api/studies")).Count.ShouldBe(studiesBefore + imported);
    }

    [Fact]
    public async Task generated_query_strings_get_an_answer_or_a_4xx_never_a_failure()
    {
        // Over real HTTP (Kestrel): what reaches the Server is what a client can send, encoded NULs included.
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var baseUrl = app.StartOnKestrel();
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec());
        var before = await EventsAsync(app);
        var junk = Gen.OneOf(Gen.OneOf(NastyStrings), Gen.Long.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.Const(string.Join(",", Enumerable.Repeat(id, 20))), Gen.Const($"{id},{Guid.NewGuid()}"), Gen.String[0, 50]);
        string[] paths =
        [
            $"/api/studies/{id}?asOf=", "/api/compare?ids=", $"/api/studies/{id}/events?after=", $"/api/studies/{id}/events?limit=",
            $"/api/studies/{id}/verify?expect=", "/api/predictions/", "/api/studies/", $"/studies/{id}?asOf=", "/compare?ids=",
        ];
        await Gen.Select(Gen.OneOf(paths), junk).SampleAsync(async (path, value) =>
        {
            var response = await client.GetAsync(path + Uri.EscapeDataString(value));
            ((int)response.StatusCode).ShouldBeLessThan(500, $"{path}{value}: {await response.Content.ReadAsStringAsync()}");
        }, iter: 200, threads: 1);
        (await EventsAsync(app)).ShouldBe(before);
    }

    [Fact]
    public async Task generated_bad_reports_are_each_refused_by_the_consumer_and_the_study_is_unchanged()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(widths: [8, 16]));
        var trials = (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]!.AsArray().Select(t => t!["trialId"]!.GetValue<Guid>()).ToList();
        var bus = app.Services.GetRequiredService<IBus>();
        var now = DateTimeOffset.UtcNow;
        // The first trial is running; the others have not started.
        await bus.Publish(new TrialStarted(id, trials[0], 1, "w", "h", 1, "0.107", now));
        await StudyApi.WaitForStatusAsync(client, id, "Running", TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events")).Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(50);
        var before = await EventsAsync(app);
        var refusalsBefore = app.Logs.Refusals;

        var running = trials[0];
        var idle = trials[1];
        var bad = Gen.OneOf<object>(
            Gen.Select(Gen.OneOf(-5, 0, 31, int.MaxValue), Gen.Double[0, 3])
                .Select(object (s, l) => new LossCheckpointRecorded(id, running, s, l, l, 0.5, now)),
            Gen.OneOf(-1.0, -1e-9, -1e300).Select(object (l) => new LossCheckpointRecorded(id, running, 10, 1, l, 0.5, now)),
            Gen.OneOf(-0.1, 1.5, 100.0).Select(object (a) => new LossCheckpointRecorded(id, running, 10, 1, 1, a, now)),
            Gen.Int[1, 30].Select(object (s) => new LossCheckpointRecorded(id, idle, s, 1, 1, 0.5, now)),
            Gen.Int[1, 30].Select(object (s) => new LossCheckpointRecorded(Guid.NewGuid(), Guid.NewGuid(), s, 1, 1, 0.5, now)),
            Gen.Int[1, 30].Select(object (s) => new LossCheckpointRecorded(id, Guid.NewGuid(), s, 1, 1, 0.5, now)),
            Gen.OneOf(-1, 0, 3, 99).Select(object (a) => new TrialStarted(id, idle, a, "w", "h", 1, "0.107", now)),
            Gen.OneOf(NastyStrings.Where(s => s.Contains('\0') || s.Length > 1_000).ToArray())
                .Select(object (s) => new TrialStarted(id, idle, 1, s, s, 1, "0.107", now)),
            Gen.Const<object>(new TrialCompleted(id, idle, 1.0, 0.5, 100, 1, now)),
            Gen.Const<object>(new TrialCompleted(id, running, -2.0, 0.5, 100, 1, now)),
            Gen.Const<object>(new TrialAttemptFailed(id, running, 1, "I am the Server", null, now)),
            Gen.Const<object>(new TrialDiverged(id, running, 1_000_000, "too far", now)));
        var sent = 0;
        await bad.SampleAsync(async report =>
        {
            await bus.Publish(report, report.GetType());
            // A failed attempt is the Server's to record: no consumer takes one from the bus at all.
            if (report is not TrialAttemptFailed) sent++;
        }, iter: 150, threads: 1);
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (app.Logs.Refusals - refusalsBefore < sent && DateTime.UtcNow < deadline) await Task.Delay(50);
        (app.Logs.Refusals - refusalsBefore).ShouldBe(sent);
        (await EventsAsync(app)).ShouldBe(before);
        (await client.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

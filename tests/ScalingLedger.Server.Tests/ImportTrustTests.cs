using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Trust at the edges of a moved study, each probe as an attacker tried it: an import that names another study's trial, a copy
/// of a study under a new id, a forged export (edited, hashes recomputed, users rewritten; re-signed or not), a stripped
/// export, a sequence moved in the database, a study whose hashes and head were all removed. Nothing of another study changes,
/// an edited export is refused or marked, and the ledger says who imported what from where.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ImportTrustTests(PostgresFixture pg)
{
    private static Task<LedgerApp> NewLedgerAsync(PostgresFixture pg) => pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));

    [Fact]
    public async Task an_import_that_names_another_studys_trial_or_copies_a_study_under_a_new_id_is_refused_and_touches_nothing()
    {
        await using var app = await NewLedgerAsync(pg);
        var client = app.CreateClient();
        var owners = await StudyApi.ImportAsync(client, "owners-study");
        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromSeconds(60));
        var before = await Documents(client, owners);
        var trial = before["trials"]!.AsArray()[0]!;
        var trialId = trial["trialId"]!.GetValue<Guid>();

        // A two-event study whose trial_completed names the owner's trial, chained as a ledger would chain it.
        var probe = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        var twoEvents = Export(probe,
            ("study_imported", new JsonObject
            {
                ["StudyId"] = probe, ["Name"] = "probe", ["Owner"] = "mallory", ["Columns"] = new JsonArray("width", "loss"), ["ImportedBy"] = "mallory",
                ["ImportedAt"] = at, ["Runs"] = new JsonArray(new JsonObject
                {
                    ["TrialId"] = Guid.NewGuid(), ["Order"] = 0, ["SourceLine"] = 2, ["Width"] = 64, ["Loss"] = 1.0,
                }),
            }),
            ("trial_completed", new JsonObject
            {
                ["StudyId"] = probe, ["TrialId"] = trialId, ["FinalEvalLoss"] = 0.000123, ["FinalEvalAccuracy"] = 0.9, ["ParameterCount"] = 10,
                ["DurationSeconds"] = 1.0, ["CompletedAt"] = at,
            }));
        var refused = await ImportAsync(client, twoEvents);
        refused.Status.ShouldBe(HttpStatusCode.BadRequest, refused.Body);
        refused.Body.ShouldContain("not one of the study's trials");

        // A copy of the owner's study under a new id, with its trial ids kept.
        var export = await ExportAsync(client, owners);
        var copy = Rechain(JsonNode.Parse(export.ToJsonString().Replace(owners.ToString(), Guid.NewGuid().ToString()))!.AsObject());
        var copied = await ImportAsync(client, copy);
        copied.Status.ShouldBe(HttpStatusCode.BadRequest, copied.Body);
        copied.Body.ShouldContain($"trial {trialId} is already one of study {owners}'s");

        // Nothing stored of either, and every document of the owner's study is what its own events make.
        (await StudyApi.GetArrayAsync(client, "/api/studies")).Select(s => s!["id"]!.GetValue<Guid>()).ShouldBe([owners]);
        var after = await Documents(client, owners);
        after.ToJsonString().ShouldBe(before.ToJsonString());
        await AssertDocumentsAreTheReplayAsync(client, owners);
    }

    [Fact]
    public async Task an_event_of_another_study_in_the_database_changes_none_of_a_studys_documents_nor_does_a_rebuild()
    {
        await using var app = await NewLedgerAsync(pg);
        var client = app.CreateClient();
        var owners = await StudyApi.ImportAsync(client, "owners-study");
        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromSeconds(60));
        var before = await Documents(client, owners);
        var trialId = before["trials"]!.AsArray()[0]!["trialId"]!.GetValue<Guid>();
        var fitId = before["latestFits"]!.AsArray()[0]!["fitId"]!.GetValue<Guid>();

        // Written around every check (as a hand in the database, or an import before this version, could): another study whose
        // events name the owner's trial and fit ids.
        var other = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        var store = app.Services.GetRequiredService<Marten.IDocumentStore>();
        await using (var session = store.LightweightSession())
        {
            session.Events.StartStream(other,
                new StudyImported(other, "other", "mallory", [new ImportedRun(trialId, 0, 2, 64, null, null, 0.001, 0, 0.000123)], ["width", "loss"],
                    "mallory", at),
                new TrialCompleted(other, trialId, 0.000123, 0.9, 10, 1, at),
                new LawFitted(other, fitId, "fixed-lr-loglinear", "lr=0.001", "L = a", new Dictionary<string, double> { ["a"] = 0 }, false, "forged", null,
                    [], [trialId], 1, "ols", "0", at));
            await session.SaveChangesAsync();
        }
        (await Documents(client, owners)).ToJsonString().ShouldBe(before.ToJsonString());

        // The read side rebuilt from every event (as an upgrade does): the damage does not come back.
        await RebuildAsync(app);
        await using var rebuilt = new LedgerApp(app.ConnectionString, [("Ledger:EmbeddedTrainer", "false")]);
        var again = rebuilt.CreateClient();
        (await Documents(again, owners)).ToJsonString().ShouldBe(before.ToJsonString());
        await AssertDocumentsAreTheReplayAsync(again, owners);
    }

    [Fact]
    public async Task a_study_moved_between_ledgers_proves_its_origin_and_a_forged_or_stripped_export_is_refused_or_marked()
    {
        await using var origin = await NewLedgerAsync(pg);
        var source = origin.CreateClient();
        var id = await StudyApi.ImportAsync(source, "lab-a-study");
        await StudyApi.WaitForReactorsAsync(source, TimeSpan.FromSeconds(60));
        var identity = await StudyApi.GetAsync(source, "/api/ledger");
        var export = await ExportAsync(source, id);
        export["format"]!.GetValue<string>().ShouldBe(StudyExport.CurrentFormat);
        export["origin"]!["ledger"]!.GetValue<string>().ShouldBe(identity["fingerprint"]!.GetValue<string>());
        var count = export["events"]!.AsArray().Count;

        // A ledger that trusts the origin's key: the import is of verified origin, and verify and the study say so.
        await using var trusting = await NewLedgerAsync(pg);
        var trustingClient = trusting.CreateClient();
        var publicKey = identity["publicKey"]!.GetValue<string>();
        var trusted = await trustingClient.PostAsJsonAsync("/api/trusted-ledgers", new { name = "lab-a", publicKey });
        trusted.StatusCode.ShouldBe(HttpStatusCode.Created, await trusted.Content.ReadAsStringAsync());
        var imported = await ImportAsync(trustingClient, export);
        imported.Status.ShouldBe(HttpStatusCode.Created, imported.Body);
        var verdict = await StudyApi.GetAsync(trustingClient, $"/api/studies/{id}/verify");
        verdict["intact"]!.GetValue<bool>().ShouldBeTrue(verdict.ToJsonString());
        var says = verdict["says"]!.GetValue<string>();
        says.ShouldContain($"Events 1..{count} were imported by local");
        says.ShouldContain($"from ledger {identity["fingerprint"]!.GetValue<string>()[..16]} ('lab-a') (verified origin");
        var study = await StudyApi.GetAsync(trustingClient, $"/api/studies/{id}");
        study["imports"]!.AsArray().ShouldHaveSingleItem()!["originVerified"]!.GetValue<bool>().ShouldBeTrue();
        // The study's page says it too (its first render, before the circuit connects).
        var page = await trustingClient.GetStringAsync($"/studies/{id}");
        page.ShouldContain($"Events 1..{count} were imported by local");
        page.ShouldContain("(verified origin");

        // The same export where nothing trusts its origin: imported, and marked unverified.
        await using var stranger = await NewLedgerAsync(pg);
        var strangerClient = stranger.CreateClient();
        (await ImportAsync(strangerClient, export)).Status.ShouldBe(HttpStatusCode.Created);
        (await StudyApi.GetAsync(strangerClient, $"/api/studies/{id}/verify"))["says"]!.GetValue<string>().ShouldContain("unverified origin");

        // Forged: every loss edited, every user rewritten, the hashes recomputed. With the origin's signature kept it does not
        // hold; re-signed by the forger's own key it imports, as unverified (and never from the trusted ledger).
        var forged = Rechain(Forge(export), keepOrigin: true);
        await using var victim = await NewLedgerAsync(pg);
        var victimClient = victim.CreateClient();
        await victimClient.PostAsJsonAsync("/api/trusted-ledgers", new { name = "lab-a", publicKey });
        var withOldSignature = await ImportAsync(victimClient, forged);
        withOldSignature.Status.ShouldBe(HttpStatusCode.BadRequest, withOldSignature.Body);
        withOldSignature.Body.ShouldContain("signature does not hold");
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var resigned = await ImportAsync(victimClient, Sign(forged, forger));
        resigned.Status.ShouldBe(HttpStatusCode.Created, resigned.Body);
        var forgedVerdict = await StudyApi.GetAsync(victimClient, $"/api/studies/{id}/verify");
        forgedVerdict["says"]!.GetValue<string>().ShouldContain("unverified origin");
        forgedVerdict["says"]!.GetValue<string>().ShouldNotContain("lab-a");

        // Stripped of its hashes (and head): refused, nothing stored.
        var stripped = export.DeepClone().AsObject();
        foreach (var e in stripped["events"]!.AsArray()) e!["hash"] = null;
        stripped["head"] = null;
        stripped.Remove("origin");
        await using var empty = await NewLedgerAsync(pg);
        var emptyClient = empty.CreateClient();
        var strippedImport = await ImportAsync(emptyClient, stripped);
        strippedImport.Status.ShouldBe(HttpStatusCode.BadRequest);
        strippedImport.Body.ShouldContain("hash-chained");
        (await StudyApi.GetArrayAsync(emptyClient, "/api/studies")).ShouldBeEmpty();

        // An admin manages the trusted keys; nobody else may.
        var list = await StudyApi.GetArrayAsync(trustingClient, "/api/trusted-ledgers");
        list.ShouldHaveSingleItem()!["name"]!.GetValue<string>().ShouldBe("lab-a");
        (await trustingClient.PostAsJsonAsync("/api/trusted-ledgers", new { name = "x", publicKey = "AAAA" })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await trustingClient.DeleteAsync($"/api/trusted-ledgers/{identity["fingerprint"]}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await StudyApi.GetAsync(trustingClient, $"/api/studies/{id}/verify"))["says"]!.GetValue<string>()
            .ShouldContain("verified origin", Case.Sensitive, "what the import recorded stands");
    }

    [Fact]
    public async Task a_sequence_moved_in_the_database_or_a_chain_stripped_whole_never_reads_intact()
    {
        await using var origin = await NewLedgerAsync(pg);
        var source = origin.CreateClient();
        var id = await StudyApi.ImportAsync(source, "moved");
        await StudyApi.WaitForReactorsAsync(source, TimeSpan.FromSeconds(60));
        var export = await ExportAsync(source, id);
        await using var target = await NewLedgerAsync(pg);
        var client = target.CreateClient();
        (await ImportAsync(client, export)).Status.ShouldBe(HttpStatusCode.Created);
        (await StudyApi.GetAsync(client, $"/api/studies/{id}/verify"))["intact"]!.GetValue<bool>().ShouldBeTrue();

        // The imported study's last trial end placed at sequence 1 of the ledger it came from (where a replay and an audit read it).
        var end = export["events"]!.AsArray().Last(e => e!["type"]!.GetValue<string>() != "study_completed")!;
        Long(end["sequence"]).ShouldBeGreaterThan(1);
        await ExecuteAsync(target, "update ledger.mt_events set headers = jsonb_set(headers, '{ledger-sequence}', '\"1\"') " +
                                   $"where stream_id = @id and version = {Long(end["version"])}", id);
        var moved = await StudyApi.GetAsync(client, $"/api/studies/{id}/verify");
        moved["intact"]!.GetValue<bool>().ShouldBeFalse($"{moved.ToJsonString()} {export["head"]!.ToJsonString()}");
        moved["firstBroken"]!["version"]!.GetValue<long>().ShouldBe(Long(end["version"]));
        moved["says"]!.GetValue<string>().ShouldContain("moved");

        // A study recorded here: one of its events moved to another global sequence.
        await ExecuteAsync(origin, "update ledger.mt_events set seq_id = seq_id + 1000000 where stream_id = @id and version = 2", id);
        var renumbered = await StudyApi.GetAsync(source, $"/api/studies/{id}/verify");
        renumbered["intact"]!.GetValue<bool>().ShouldBeFalse();
        renumbered["firstBroken"]!["version"]!.GetValue<long>().ShouldBe(2);

        // Every hash of a study and its head removed: it was recorded after the ledger began chaining, so that is a break.
        var other = await StudyApi.ImportAsync(source, "stripped");
        await StudyApi.WaitForReactorsAsync(source, TimeSpan.FromSeconds(60));
        await ExecuteAsync(origin, "update ledger.mt_events set headers = headers - 'chain' where stream_id = @id", other, rows: -1);
        await ExecuteAsync(origin, "delete from ledger.mt_doc_studychain where id = @id", other);
        var stripped = await StudyApi.GetAsync(source, $"/api/studies/{other}/verify");
        stripped["intact"]!.GetValue<bool>().ShouldBeFalse(stripped.ToJsonString());
        stripped["says"]!.GetValue<string>().ShouldContain("after the ledger began chaining");
    }

    /// <summary>Every document of a study, curves included, as the API assembles them.</summary>
    private static async Task<JsonObject> Documents(HttpClient client, Guid id) => await StudyApi.GetAsync(client, $"/api/studies/{id}?checkpoints=all");

    /// <summary>The stored documents are what folding the study's own events gives (?asOf= past its last event folds them).</summary>
    private static async Task AssertDocumentsAreTheReplayAsync(HttpClient client, Guid id)
    {
        var stored = await Documents(client, id);
        var replayed = await StudyApi.GetAsync(client, $"/api/studies/{id}?asOf={long.MaxValue / 2}");
        stored.ToJsonString().ShouldBe(replayed.ToJsonString());
    }

    [Fact]
    public async Task a_moved_event_recorded_without_a_user_keeps_none_and_its_chain_still_verifies()
    {
        await using var origin = await NewLedgerAsync(pg);
        var source = origin.CreateClient();
        var id = await StudyApi.ImportAsync(source, "userless");
        await StudyApi.WaitForReactorsAsync(source, TimeSpan.FromSeconds(60));
        // An event may be recorded without a user (an export says null, and the import takes it): the chain's hash covers it.
        var export = await ExportAsync(source, id);
        foreach (var e in export["events"]!.AsArray()) e!["user"] = null;
        var userless = Rechain(export);

        await using var target = await NewLedgerAsync(pg);
        var client = target.CreateClient();
        var imported = await ImportAsync(client, userless);
        imported.Status.ShouldBe(HttpStatusCode.Created, imported.Body);
        var verdict = await StudyApi.GetAsync(client, $"/api/studies/{id}/verify");
        verdict["firstBroken"].ShouldBeNull(verdict.ToJsonString());
        verdict["intact"]!.GetValue<bool>().ShouldBeTrue(verdict.ToJsonString());
        var again = (await ExportAsync(client, id))["events"]!.AsArray();
        again.Take(userless["events"]!.AsArray().Count).ShouldAllBe(e => e!["user"] == null, "no moved event took the importer's name");
    }

    private static async Task<JsonObject> ExportAsync(HttpClient client, Guid id) =>
        JsonNode.Parse(await client.GetStringAsync($"/api/studies/{id}/export"))!.AsObject();

    private static async Task<(HttpStatusCode Status, string Body)> ImportAsync(HttpClient client, JsonObject export)
    {
        var response = await client.PostAsync("/api/studies/import-events", new StringContent(export.ToJsonString(), Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An export of the given events, chained from the first as a ledger chains them (sequences 1, 2, ...), unsigned.</summary>
    private static JsonObject Export(Guid study, params (string Type, JsonObject Data)[] events) => Rechain(new JsonObject
    {
        ["format"] = StudyExport.CurrentFormat, ["studyId"] = study, ["exportedAt"] = DateTimeOffset.UtcNow,
        ["events"] = new JsonArray(events.Select((e, i) => (JsonNode)new JsonObject
        {
            ["version"] = i + 1, ["sequence"] = i + 1, ["type"] = e.Type, ["timestamp"] = DateTimeOffset.UtcNow, ["user"] = "mallory", ["data"] = e.Data,
        }).ToArray()),
    });

    /// <summary>Every hash recomputed over the export's content (what the 60-line forging script did), the head moved to match.</summary>
    private static JsonObject Rechain(JsonObject export, bool keepOrigin = false)
    {
        var previous = EventChain.Genesis;
        var events = export["events"]!.AsArray();
        foreach (var e in events)
        {
            previous = EventChain.Hash(previous, e!["type"]!.GetValue<string>(), Long(e["version"]), e["user"]?.GetValue<string>(),
                e["timestamp"]!.GetValue<DateTimeOffset>(), e["data"]!.ToJsonString(), Long(e["sequence"]));
            e["hash"] = previous;
        }
        export["head"] = new JsonObject { ["chainedFrom"] = 1, ["version"] = events.Count, ["hash"] = previous, ["sequencedFrom"] = 1 };
        if (!keepOrigin) export.Remove("origin");
        return export;
    }

    /// <summary>Every loss edited and every user rewritten to another account.</summary>
    private static JsonObject Forge(JsonObject export)
    {
        var forged = export.DeepClone().AsObject();
        foreach (var e in forged["events"]!.AsArray())
        {
            e!["user"] = "mallory";
            if (e["data"]!["Runs"] is JsonArray runs)
                foreach (var run in runs) run!["Loss"] = run["Loss"]!.GetValue<double>() / 2;
        }
        return forged;
    }

    /// <summary>The export signed by <paramref name="key"/>, as its own ledger would sign it.</summary>
    private static JsonObject Sign(JsonObject export, ECDsa key)
    {
        var head = export["head"]!;
        var events = export["events"]!.AsArray();
        var statement = ExportSignature.Statement(export["studyId"]!.GetValue<Guid>(), export["exportedAt"]!.GetValue<DateTimeOffset>(),
            new ChainHead(Long(head["chainedFrom"]), Long(head["version"]), head["hash"]!.GetValue<string>(),
                head["sequencedFrom"] is { } from ? Long(from) : null),
            SequenceDigest.Of(events.Select(e => (Long(e!["version"]), Long(e["sequence"])))), events.Count);
        var publicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
        var signed = export.DeepClone().AsObject();
        signed["origin"] = new JsonObject
        {
            ["ledger"] = ExportSignature.Fingerprint(Convert.FromBase64String(publicKey)), ["publicKey"] = publicKey,
            ["signature"] = ExportSignature.Sign(key, statement), ["algorithm"] = ExportSignature.Algorithm,
        };
        return signed;
    }

    private static long Long(JsonNode? node) => long.Parse(node!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    private static Task ExecuteAsync(LedgerApp app, string sql, Guid id, int rows = 1) => app.ExecuteAsync(sql, id, rows);

    /// <summary>Marks the read side as built by another version: the next Server rebuilds every document from the events.</summary>
    private static async Task RebuildAsync(LedgerApp app)
    {
        await app.DisposeAsync();
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("delete from ledger.mt_doc_ledgerversion", connection);
        (await command.ExecuteNonQueryAsync()).ShouldBe(1);
    }
}

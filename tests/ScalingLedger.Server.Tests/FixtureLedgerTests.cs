using System.Text.Json.Nodes;
using Npgsql;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// The ledger is a record kept for years: a ledger written by an earlier version (commit d58f92f, before the read side was
/// split and before evidence by reference; see Fixtures/ledger-d58f92f/README.md) opens in this one with every study,
/// trial, fit, prediction and audit intact. Its raw event store is loaded into a fresh database and the Server started
/// on it, as an upgrade would.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FixtureLedgerTests(PostgresFixture pg)
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "ledger-d58f92f");

    private static JsonNode Fixture(string file) => JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, file)))!;

    [Fact]
    public async Task a_ledger_written_by_an_earlier_version_opens_with_every_study_fit_prediction_and_audit_intact()
    {
        // The schema of this version, then the old ledger's events under it, and no documents: they are rebuilt on start.
        string connection;
        await using (var empty = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false")))
        {
            _ = empty.CreateClient();
            connection = empty.ConnectionString;
        }
        await LoadEventsAsync(connection);

        await using var app = new LedgerApp(connection, [("Ledger:EmbeddedTrainer", "false")]);
        var client = app.CreateClient();

        var expectedStudies = Fixture("studies.json").AsArray();
        var studies = await StudyApi.GetArrayAsync(client, "/api/studies");
        studies.Count.ShouldBe(expectedStudies.Count);
        foreach (var expected in expectedStudies)
        {
            var id = expected!["id"]!.GetValue<Guid>();
            var actual = studies.Single(s => s!["id"]!.GetValue<Guid>() == id)!;
            foreach (var field in new[] { "name", "owner", "status", "trialCount" })
                actual[field]!.ToJsonString().ShouldBe(expected[field]!.ToJsonString(), $"{expected["name"]}: {field}");
            actual["trialCounts"]!.ToJsonString().ShouldBe(expected["trialCounts"]!.ToJsonString());
        }

        var audited = 0;
        foreach (var expected in expectedStudies)
        {
            var name = expected!["name"]!.GetValue<string>();
            var id = expected["id"]!.GetValue<Guid>();
            var old = Fixture($"study-{name}.json");
            var now = await StudyApi.GetAsync(client, $"/api/studies/{id}");
            foreach (var field in new[] { "name", "owner", "spec", "source", "status", "definedAt", "endedAt", "cancelledBy", "coordinateChecks" })
                (now[field]?.ToJsonString()).ShouldBe(old[field]?.ToJsonString(), $"{name}: {field}");
            // Its events were recorded before the ledger chained them: verify says so, and any appended since are chained. A study
            // this version appended nothing to has no chain at all: nothing proves it, and it is never called intact.
            var verdict = await StudyApi.GetAsync(client, $"/api/studies/{id}/verify");
            verdict["firstBroken"].ShouldBeNull($"{name}: {verdict.ToJsonString()}");
            verdict["unchained"]!.GetValue<long>().ShouldBeGreaterThan(0, name);
            verdict["says"]!.GetValue<string>().ShouldContain("before", Case.Sensitive, name);
            verdict["intact"]!.GetValue<bool>().ShouldBe(verdict["verifiable"]!.GetValue<bool>(), name);
            if (!verdict["verifiable"]!.GetValue<bool>()) verdict["says"]!.GetValue<string>().ShouldStartWith("Not verifiable", Case.Sensitive, name);

            // Every trial as it was: plan, outcome, provenance and its whole curve.
            var oldTrials = old["trials"]!.AsArray();
            var trials = now["trials"]!.AsArray();
            trials.Count.ShouldBe(oldTrials.Count);
            foreach (var (a, b) in oldTrials.Zip(trials))
                foreach (var field in new[] { "trialId", "order", "width", "learningRate", "seed", "status", "attempt", "workerId", "codeVersion",
                             "datasetSha256", "startedAt", "endedAt", "checkpoints", "finalEvalLoss", "finalEvalAccuracy", "parameterCount",
                             "params", "tokens", "endedAtStep", "reason", "isTerminal" })
                    (b![field]?.ToJsonString()).ShouldBe(a![field]?.ToJsonString(), $"{name}: trial {a["order"]} {field}");

            // Every fit ever made, as it was recorded, evidence included (this version may add refits after them).
            var oldFits = Fixture($"fits-{name}.json").AsArray();
            var fits = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/fits");
            fits.Count.ShouldBeGreaterThanOrEqualTo(oldFits.Count);
            foreach (var (a, b) in oldFits.Zip(fits))
            {
                b!["sequence"]!.GetValue<long>().ShouldBe(a!["sequence"]!.GetValue<long>());
                foreach (var field in new[] { "fitId", "law", "key", "form", "parameters", "converged", "points", "evidenceTrialIds",
                             "evidenceSequence", "fitterVersion", "intervals", "predictions" })
                    (b["fit"]![field]?.ToJsonString()).ShouldBe(a["fit"]![field]?.ToJsonString(), $"{name}: fit {a["sequence"]} {field}");
            }

            // Every prediction it issued is still listed, and its audit re-derives its fit from its evidence.
            var oldPredictions = old["predictions"]!.AsArray();
            var predictions = now["predictions"]!.AsArray();
            predictions.Count.ShouldBeGreaterThanOrEqualTo(oldPredictions.Count);
            foreach (var p in oldPredictions)
            {
                var predictionId = p!["issued"]!["predictionId"]!.GetValue<Guid>();
                var listed = predictions.Single(q => q!["issued"]!["predictionId"]!.GetValue<Guid>() == predictionId)!;
                listed["issued"]!.ToJsonString().ShouldBe(p["issued"]!.ToJsonString());
                (listed["resolution"]?.ToJsonString()).ShouldBe(p["resolution"]?.ToJsonString());
                var audit = await StudyApi.GetAsync(client, $"/api/predictions/{predictionId}");
                audit["verified"]!.GetValue<bool>().ShouldBeTrue($"{name}: prediction {predictionId}: {audit["differences"]!.ToJsonString()}");
                audit["evidenceTrials"]!.AsArray().Count.ShouldBe(p["issued"]!["evidenceTrialIds"]!.AsArray().Count);
                audited++;
            }
        }
        audited.ShouldBe(49);
    }

    /// <summary>Copies the fixture's event store (streams and events, every column it has) into the ledger's tables.</summary>
    private static async Task LoadEventsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "mt_streams", "mt_events" })
        {
            var csv = await File.ReadAllTextAsync(Path.Combine(Dir, table + ".csv"));
            var columns = csv[..csv.IndexOf('\n')].Trim();
            await using (var writer = await connection.BeginTextImportAsync($"COPY ledger.{table} ({columns}) FROM STDIN (FORMAT csv, HEADER true)"))
                await writer.WriteAsync(csv);
        }
        await using var commands = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new("select setval('ledger.mt_events_sequence', (select max(seq_id) from ledger.mt_events))"),
                // The documents of this version's first start on the empty database: the old ledger had none of these.
                new("delete from ledger.mt_doc_ledgerversion"),
            },
        };
        await commands.ExecuteNonQueryAsync();
    }
}

using System.Net;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// The rebuild at start meets an event it cannot read: the Server starts anyway, names the event in one line, lists it in
/// <c>/health</c>, and leaves it in the store as it was; every other study reads as before.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LedgerUpgradeTests(PostgresFixture pg)
{
    [Fact]
    public async Task an_event_the_rebuild_cannot_read_is_skipped_named_and_listed_and_the_ledger_starts()
    {
        // The Server that wrote the ledger stays up beside the one that rebuilds it (as in a cluster during an upgrade): the
        // bus of a disposed test host cannot be built again in this process.
        await using var before = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = before.CreateClient();
        var connection = before.ConnectionString;
        var broken = await StudyApi.DefineAsync(client, StudyApi.TinySpec("broken-one", widths: [8, 16]));
        var intact = await StudyApi.DefineAsync(client, StudyApi.TinySpec("intact-one", widths: [8, 16]));
        var later = await StudyApi.DefineAsync(client, StudyApi.TinySpec("of-a-later-version", widths: [8, 16]));
        var trial = (await StudyApi.GetAsync(client, $"/api/studies/{broken}"))["trials"]![0]!["trialId"]!.GetValue<Guid>();
        var run = Guid.NewGuid();
        await before.Services.GetRequiredService<IBus>().Publish(
            new TrialStarted(broken, trial, 1, "w", "h", 1, "0.107", DateTimeOffset.UtcNow) with { RunId = run },
            c => c.Headers.Set(ReportHeaders.Run, run));
        await StudyApi.WaitForAllTrials(client, broken, "Running", TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        while ((await StudyApi.GetAsync(client, $"/api/studies/{broken}"))["trials"]!.AsArray().All(t => t!["status"]!.GetValue<string>() != "Running"))
            await Task.Delay(50);

        // A stored event this version cannot read (a number stored as an object: Marten keeps the record's own casing), one
        // before it of a type this version does not know (as if a later version wrote it), and documents of an older read side.
        long badSequence, unknownSequence;
        await using (var db = new NpgsqlConnection(connection))
        {
            await db.OpenAsync();
            await using (var find = new NpgsqlCommand("select seq_id from ledger.mt_events where type = 'trial_started'", db))
                badSequence = (long)(await find.ExecuteScalarAsync())!;
            await using (var corrupt = new NpgsqlCommand(
                "update ledger.mt_events set data = jsonb_set(data, '{Attempt}', '{\"not\": \"a number\"}') where seq_id = @seq; " +
                "delete from ledger.mt_doc_ledgerversion", db))
            {
                corrupt.Parameters.AddWithValue("seq", badSequence);
                await corrupt.ExecuteNonQueryAsync();
            }
            await using (var unknown = new NpgsqlCommand(
                "update ledger.mt_events set type = 'study_defined_by_a_later_version', " +
                "mt_dotnet_type = 'ScalingLedger.Contracts.StudyDefinedLater, ScalingLedger.Contracts' where stream_id = @stream returning seq_id", db))
            {
                unknown.Parameters.AddWithValue("stream", later);
                unknownSequence = (long)(await unknown.ExecuteScalarAsync())!;
            }
        }
        unknownSequence.ShouldBeLessThan(badSequence, "the scan meets the unknown type first, and must go on past it");

        await using var after = new LedgerApp(connection, [("Ledger:EmbeddedTrainer", "false")]);
        var now = after.CreateClient();
        var health = await now.GetAsync("/health");
        health.StatusCode.ShouldBe(HttpStatusCode.OK);
        var readModel = (await StudyApi.GetAsync(now, "/health"))["readModel"]!;
        readModel["skippedEvents"]!.GetValue<int>().ShouldBe(2);
        var unknownSkipped = readModel["skipped"]!.AsArray().Single(e => e!["sequence"]!.GetValue<long>() == unknownSequence)!;
        unknownSkipped["type"]!.GetValue<string>().ShouldBe("study_defined_by_a_later_version");
        unknownSkipped["streamId"]!.GetValue<Guid>().ShouldBe(later);
        var skipped = readModel["skipped"]!.AsArray().Single(e => e!["sequence"]!.GetValue<long>() == badSequence)!;
        skipped["sequence"]!.GetValue<long>().ShouldBe(badSequence);
        skipped["streamId"]!.GetValue<Guid>().ShouldBe(broken);
        skipped["type"]!.GetValue<string>().ShouldBe("trial_started");
        skipped["projections"]!.AsArray().ShouldNotBeEmpty();
        after.Logs.Messages.ShouldContain(m => m.StartsWith($"Rebuild skipped event {badSequence} (stream {broken}, type trial_started)",
            StringComparison.Ordinal));

        // A read that needs it says which event it is.
        var events = await now.GetAsync($"/api/studies/{broken}/events");
        events.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        (await events.Content.ReadAsStringAsync()).ShouldContain($"Event {badSequence} (trial_started) of the ledger cannot be read");
        var laterEvents = await now.GetAsync($"/api/studies/{later}/events");
        laterEvents.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        var laterBody = await laterEvents.Content.ReadAsStringAsync();
        // Marten names the .NET type it could not load, not the alias.
        (laterBody.Contains("does not know", StringComparison.Ordinal) && laterBody.Contains("StudyDefinedLater", StringComparison.Ordinal)
            && !laterBody.Contains("You may need", StringComparison.Ordinal)).ShouldBeTrue(laterBody);

        // Both studies are there; the other one as it was. The bad event is still stored, unchanged.
        var studies = await StudyApi.GetArrayAsync(now, "/api/studies");
        studies.Select(s => s!["id"]!.GetValue<Guid>()).ShouldBe([intact, broken], ignoreOrder: true);
        (await StudyApi.GetAsync(now, $"/api/studies/{intact}"))["trials"]!.AsArray().Count.ShouldBe(4);
        await using (var db = new NpgsqlConnection(connection))
        {
            await db.OpenAsync();
            await using var read = new NpgsqlCommand("select data->'Attempt'->>'not' from ledger.mt_events where seq_id = @seq", db);
            read.Parameters.AddWithValue("seq", badSequence);
            (await read.ExecuteScalarAsync()).ShouldBe("a number");
        }
    }
}

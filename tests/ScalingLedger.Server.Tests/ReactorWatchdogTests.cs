using System.Diagnostics;
using JasperFx.Events.Daemon;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// A reactor whose stored progress moved under it (two Servers ran it for a moment, as after a database restart) stops; the
/// watchdog hands it back and it is started afresh, so refits and completions go on. Real Server, real database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ReactorWatchdogTests(PostgresFixture pg, ITestOutputHelper output)
{
    [Fact]
    public async Task a_reactor_stopped_because_its_progress_moved_under_it_is_started_again_and_catches_up()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        await StudyApi.ImportAsync(client, "before");
        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromSeconds(60));
        var daemon = app.Services.GetRequiredService<IProjectionCoordinator>().DaemonForMainDatabase();
        var before = daemon.CurrentAgents().Single(a => a.Name.Identity == "law-reactor:All");

        // What another Server running the reactor meanwhile does: the stored progress is no longer where this one left it.
        await using (var connection = new NpgsqlConnection(app.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "update ledger.mt_event_progression set last_seq_id = last_seq_id - 1 where name = 'law-reactor:All'", connection);
            (await command.ExecuteNonQueryAsync()).ShouldBe(1);
        }
        var clock = Stopwatch.StartNew();
        await StudyApi.ImportAsync(client, "after"); // the reactor's next page fails its progress check: it stops

        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromSeconds(60));
        output.WriteLine($"the reactor caught up again {clock.Elapsed.TotalSeconds:F1} s after its progress moved");
        var after = daemon.CurrentAgents().Single(a => a.Name.Identity == "law-reactor:All");
        after.ShouldNotBeSameAs(before, "the reactor was never stopped: the test did not make the fault");
        after.Status.ShouldBe(JasperFx.AgentStatus.Running);
    }
}

/// <summary>Two refits of the same evidence at once (an import's own and the reactor's) record its fits once.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RefitRaceTests(PostgresFixture pg)
{
    [Fact]
    public async Task two_refits_of_the_same_evidence_at_once_record_each_fit_once()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var writer = app.Services.GetRequiredService<Studies.StudyWriter>();
        var refitter = app.Services.GetRequiredService<Reactors.StudyRefitter>();
        var id = Guid.CreateVersion7();
        var runs = new[] { 64, 128, 256, 512, 1024 }
            .Select((w, i) => new Contracts.ImportedRun(Guid.CreateVersion7(), i, i + 2, w, null, null, 0.001, 0, 1.0 - 0.05 * i)).ToList();
        await writer.StartAsync(id, new Contracts.StudyImported(id, "race", "tester", runs, ["width", "learningRate", "loss"], "tester",
            DateTimeOffset.UtcNow), "tester", CancellationToken.None);

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => refitter.RefitAsync(id, CancellationToken.None)));
        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromSeconds(60));

        var fits = (await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events")).Where(e => e!["type"]!.GetValue<string>() == "LawFitted")
            .Select(e => $"{e!["data"]!["law"]} {e["data"]!["key"]}").ToList();
        fits.ShouldNotBeEmpty();
        fits.ShouldBeUnique();
    }
}

using System.Diagnostics;
using System.Net;
using System.Text;
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
    private static async Task ImportAsync(HttpClient client, string name)
    {
        var csv = "width,learningRate,loss\n64,0.001,1.0\n128,0.001,0.9\n256,0.001,0.85\n512,0.001,0.82\n";
        var response = await client.PostAsync($"/api/studies/import?name={name}", new StringContent(csv, Encoding.UTF8, "text/csv"));
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task a_reactor_stopped_because_its_progress_moved_under_it_is_started_again_and_catches_up()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        await ImportAsync(client, "before");
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
        await ImportAsync(client, "after"); // the reactor's next page fails its progress check: it stops

        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromSeconds(60));
        output.WriteLine($"the reactor caught up again {clock.Elapsed.TotalSeconds:F1} s after its progress moved");
        var after = daemon.CurrentAgents().Single(a => a.Name.Identity == "law-reactor:All");
        after.ShouldNotBeSameAs(before, "the reactor was never stopped: the test did not make the fault");
        after.Status.ShouldBe(JasperFx.AgentStatus.Running);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Tests;

/// <summary>Nothing can quietly rewrite the ledger: its events are hash-chained, and its database asks for a password.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LedgerIntegrityTests(PostgresFixture pg)
{
    private static Task<Guid> ImportAsync(HttpClient client, string name) => StudyApi.ImportAsync(client, name);

    private static Task ExecuteAsync(LedgerApp app, string sql, Guid id) => app.ExecuteAsync(sql, id);

    [Fact]
    public async Task verify_finds_an_event_edited_or_deleted_in_the_database_and_a_chain_no_longer_through_a_kept_head()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var edited = await ImportAsync(client, "edited");
        var deleted = await ImportAsync(client, "deleted");

        var intact = await StudyApi.GetAsync(client, $"/api/studies/{edited}/verify");
        intact["intact"]!.GetValue<bool>().ShouldBeTrue(intact.ToJsonString());
        intact["chainedFrom"]!.GetValue<long>().ShouldBe(1);
        var events = intact["events"]!.GetValue<long>();
        events.ShouldBeGreaterThan(1); // the import and its fits
        var head = intact["head"]!;
        head["version"]!.GetValue<long>().ShouldBe(events);
        var kept = $"{head["version"]}:{head["hash"]!.GetValue<string>()}";
        (await StudyApi.GetAsync(client, $"/api/studies/{edited}/verify?expect={kept}"))["intact"]!.GetValue<bool>().ShouldBeTrue();

        // Someone with the database changes a loss of the first event.
        await ExecuteAsync(app, "update ledger.mt_events set data = jsonb_set(data, '{Runs,0,Loss}', '0.5') where stream_id = @id and version = 1",
            edited);
        var broken = await StudyApi.GetAsync(client, $"/api/studies/{edited}/verify");
        broken["intact"]!.GetValue<bool>().ShouldBeFalse();
        broken["firstBroken"]!["version"]!.GetValue<long>().ShouldBe(1);
        broken["says"]!.GetValue<string>().ShouldContain("edited");

        // ... or deletes an event, in the middle or at the end.
        await ExecuteAsync(app, "delete from ledger.mt_events where stream_id = @id and version = 2", deleted);
        (await StudyApi.GetAsync(client, $"/api/studies/{deleted}/verify"))["says"]!.GetValue<string>().ShouldContain("version 2 is missing");

        var last = await ImportAsync(client, "last");
        // Its fits are appended by the reactors after the import: delete the last event once they are in.
        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromSeconds(60));
        var before = await StudyApi.GetAsync(client, $"/api/studies/{last}/verify");
        await ExecuteAsync(app, $"delete from ledger.mt_events where stream_id = @id and version = {before["events"]}", last);
        (await StudyApi.GetAsync(client, $"/api/studies/{last}/verify"))["says"]!.GetValue<string>().ShouldContain("were deleted");

        (await client.GetAsync($"/api/studies/{edited}/verify?expect=nonsense")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await client.GetAsync($"/api/studies/{Guid.NewGuid()}/verify")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task an_event_appended_around_the_chain_does_not_stop_the_ledger_and_verify_names_it()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await ImportAsync(client, "around");
        var before = await StudyApi.GetAsync(client, $"/api/studies/{id}/verify");

        // As an older version of the ledger (or a hand) would: appended through Marten, with no hash and no head.
        await using (var session = app.Services.GetRequiredService<Marten.IDocumentStore>().LightweightSession())
        {
            session.Events.Append(id, new StudyAccessGranted(id, "eve", StudyAccessGranted.Manage, "eve", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }
        // The ledger's own writes go on (they chain on from where the stream is) ...
        var granted = await client.PostAsJsonAsync($"/api/studies/{id}/grants", new { user = "bob", permission = "manage" });
        granted.StatusCode.ShouldBe(HttpStatusCode.OK, await granted.Content.ReadAsStringAsync());
        // ... and verify names the event that came around it.
        var verdict = await StudyApi.GetAsync(client, $"/api/studies/{id}/verify");
        verdict["intact"]!.GetValue<bool>().ShouldBeFalse();
        verdict["firstBroken"]!["version"]!.GetValue<long>()
            .ShouldBe(before["events"]!.GetValue<long>() + 1, $"{before.ToJsonString()} then {verdict.ToJsonString()}");
        verdict["says"]!.GetValue<string>().ShouldContain("no hash");
    }

    [Fact]
    public async Task the_embedded_cluster_refuses_a_connection_without_its_password_and_keeps_it_to_its_user()
    {
        var postgres = pg.Postgres;
        var noPassword = new NpgsqlConnectionStringBuilder(postgres.ConnectionString("postgres")) { Password = null, Pooling = false };
        await using (var connection = new NpgsqlConnection(noPassword.ConnectionString))
            (await Should.ThrowAsync<NpgsqlException>(() => connection.OpenAsync())).Message.ShouldContain("password");
        var wrong = new NpgsqlConnectionStringBuilder(postgres.ConnectionString("postgres")) { Password = "guest", Pooling = false };
        await using (var connection = new NpgsqlConnection(wrong.ConnectionString))
            await Should.ThrowAsync<PostgresException>(() => connection.OpenAsync());
        await using (var connection = new NpgsqlConnection(postgres.ConnectionString("postgres")))
            await connection.OpenAsync();

        File.Exists(postgres.PasswordFile).ShouldBeTrue();
        if (!OperatingSystem.IsWindows()) File.GetUnixFileMode(postgres.PasswordFile).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.ReadAllLines(Path.Combine(postgres.DataDirectory, "pg_hba.conf")).Where(l => !l.TrimStart().StartsWith('#'))
            .ShouldNotContain(l => l.Contains("trust"));
    }
}

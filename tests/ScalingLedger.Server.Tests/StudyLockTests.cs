using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Two Servers on one database write to one study at once: each one's writer takes the study's database lock before it
/// reads, so neither decides on what the other has just changed (no conflict at the append), and every event is kept once,
/// chained.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StudyLockTests(PostgresFixture pg)
{
    [Fact]
    public async Task two_servers_writing_one_study_take_turns_and_never_conflict()
    {
        await using var first = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = first.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec("two-writers"));
        await using var second = new LedgerApp(first.ConnectionString, [("Ledger:EmbeddedTrainer", "false")]);
        _ = second.CreateClient();

        const int each = 40;
        var writers = new[] { first, second }.Select(app => app.Services.GetRequiredService<StudyWriter>()).ToArray();
        await Task.WhenAll(writers.SelectMany((writer, w) => Enumerable.Range(0, each).Select(i => Task.Run(() => writer.DecideAsync(id, "test", null,
            _ => Task.FromResult<IReadOnlyList<object>>([new StudyAccessGranted(id, $"user-{w}-{i}", StudyAccessGranted.Manage, "test",
                DateTimeOffset.UtcNow)]), CancellationToken.None)))));

        writers.Select(w => w.Conflicts).ShouldBe([0L, 0L], "a writer decided on stale reads and conflicted at the append");
        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        events.Count(e => e!["type"]!.GetValue<string>() == nameof(StudyAccessGranted)).ShouldBe(2 * each);
        (await StudyApi.GetAsync(client, $"/api/studies/{id}/verify"))["intact"]!.GetValue<bool>().ShouldBeTrue();
    }
}

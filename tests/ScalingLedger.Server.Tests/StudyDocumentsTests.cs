using System.Net.Http.Json;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Tests;

/// <summary>The read-model queries that leave out the curves: everything else of each trial comes back as stored.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StudyDocumentsTests(PostgresFixture pg)
{
    [Fact]
    public async Task the_open_trials_come_whole_but_for_their_checkpoints_and_the_ended_stay_out()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var store = app.Services.GetRequiredService<IDocumentStore>();
        var study = Guid.NewGuid();
        var run = Guid.NewGuid();
        var started = DateTimeOffset.Parse("2026-11-30T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        TrialView Trial(int order, TrialStatus status) => new()
        {
            TrialId = Guid.NewGuid(), StudyId = study, Order = order, Width = 8 + order, LearningRate = 0.01 * (order + 1), Seed = order,
            Status = status, Attempt = 2, RunId = run, Runs = [Guid.NewGuid(), run], WorkerId = "trainer-7", HostName = "node-3",
            StartedAt = started, Checkpoints = [new CheckpointView(1, 2.3, 2.4, 0.1), new CheckpointView(2, 2.0, 2.1, 0.3)],
        };
        var running = Trial(0, TrialStatus.Running);
        var scheduled = Trial(1, TrialStatus.Scheduled);
        await using (var session = store.LightweightSession())
        {
            session.Store(running, scheduled, Trial(2, TrialStatus.Completed), Trial(3, TrialStatus.Failed), Trial(4, TrialStatus.Cancelled));
            await session.SaveChangesAsync();
        }

        await using var query = store.QuerySession();
        var open = (await StudyDocuments.OpenTrialsAsync(query, CancellationToken.None)).Where(t => t.StudyId == study).OrderBy(t => t.Order).ToList();

        open.Select(t => t.TrialId).ShouldBe([running.TrialId, scheduled.TrialId]);
        open.ShouldAllBe(t => t.Checkpoints.Count == 0);
        var got = open[0];
        (got.Status, got.Attempt, got.RunId, got.WorkerId, got.HostName, got.StartedAt, got.Width, got.LearningRate, got.Seed)
            .ShouldBe((TrialStatus.Running, 2, run, "trainer-7", "node-3", started, 8, 0.01, 0));
        got.Runs.ShouldBe(running.Runs);
    }
}

/// <summary>A study now is assembled once per change of its stream and read from the Server's memory in between.</summary>
[Collection(PostgresCollection.Name)]
public sealed class AssembledStudiesTests(PostgresFixture pg)
{
    [Fact]
    public async Task an_unchanged_study_is_assembled_once_and_a_changed_one_again()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        using var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(name: "kept", widths: [8, 16], rates: [0.01]));
        var queries = app.Services.GetRequiredService<Web.ILedgerQueries>();
        var assembled = app.Services.GetRequiredService<AssembledStudies>();

        var first = await queries.GetStudyAsync(id);
        var reused = assembled.Reused;
        var again = await queries.GetStudyAsync(id);
        again.ShouldBeSameAs(first);
        assembled.Reused.ShouldBe(reused + 1);
        // The API reads the same way: its answer says what the documents say.
        (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["status"]!.GetValue<string>().ShouldBe("Running");

        (await client.PostAsJsonAsync($"/api/studies/{id}/cancel", new { reason = "changed" })).EnsureSuccessStatusCode();
        var changed = await queries.GetStudyAsync(id);
        changed.ShouldNotBeSameAs(first);
        changed!.Status.ShouldBe(StudyStatus.Cancelled);
        (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["status"]!.GetValue<string>().ShouldBe("Cancelled");
        // A past point is folded from the events, never kept.
        (await queries.GetStudyAsync(id, new Domain.Ledger.RecordedSequence(changed.LastSequence))).ShouldNotBeSameAs(changed);
    }

    /// <summary>The API's answer to a reader leaves out the trials' error details; the study it starts from is shared.</summary>
    [Fact]
    public void a_readers_redacted_study_is_a_copy_and_the_shared_one_stays_whole()
    {
        var failed = new TrialView
        {
            TrialId = Guid.NewGuid(), Status = TrialStatus.Failed, Reason = "IOException", FailureDetail = "at ScalingLedger.Trainer (/srv/data)",
            FailedAttempts = [new FailedAttemptView(1, "IOException", "at ScalingLedger.Trainer (/srv/data)", DateTimeOffset.UnixEpoch)],
        };
        var shared = StudyChartsTests.Study([(8, 0.01, TrialStatus.Completed, 1.0)]) with { };
        shared.Trials.Add(failed);

        var redacted = Access.FailureDetails.Redact(shared);

        redacted.Trials.ShouldAllBe(t => t.FailureDetail == null && t.FailedAttempts.TrueForAll(a => a.Detail == null));
        redacted.Trials.Single(t => t.TrialId == failed.TrialId).Reason.ShouldBe("IOException");
        failed.FailureDetail.ShouldNotBeNull();
        failed.FailedAttempts[0].Detail.ShouldNotBeNull();
        shared.Trials.ShouldContain(failed);
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// The study page's state and replay, apart from its markup: a ledger of a few events held in memory (the pure folds stand
/// in for the store; the browser tests drive the same class through the real Server).
/// </summary>
public class StudyPageTests
{
    private sealed class MemoryLedger : ILedgerQueries
    {
        public List<(object Data, long Sequence)> Events { get; } = [];
        public bool Broken { get; set; }

        // A study recorded in this ledger: each event's position here is where it happened.
        public Task<StudyView?> GetStudyAsync(Guid id, RecordedSequence? asOf = null, CancellationToken cancel = default)
        {
            if (Broken) throw new InvalidOperationException("Event deserialization error on sequence = 3");
            var upTo = Events.Where(e => e.Sequence <= (asOf ?? RecordedSequence.End).Value).ToList();
            return Task.FromResult(upTo.Count == 0 ? null : StudyProjection.Fold(upTo.Select(e => (e.Data, new RecordedSequence(e.Sequence)))));
        }

        public Task<IReadOnlyList<ReplayEvent>> GetReplayEventsAsync(Guid id, LedgerPosition after = default, CancellationToken cancel = default) =>
            Task.FromResult<IReadOnlyList<ReplayEvent>>(Events.Where(e => e.Sequence > after.Value && e.Data is not LossCheckpointRecorded)
                .Select(e => new ReplayEvent(e.Data, new RecordedSequence(e.Sequence), new LedgerPosition(e.Sequence))).ToList());

        public Task<IReadOnlyList<RefitTrouble>> GetRefitTroublesAsync(Guid id, CancellationToken cancel = default) =>
            Task.FromResult<IReadOnlyList<RefitTrouble>>([]);
        public Task<IReadOnlyList<StudySummary>> ListStudiesAsync(int offset = 0, int limit = StudyPages.Default, CancellationToken cancel = default) =>
            throw new NotSupportedException();
        public Task<(StudySummaryView Study, TrialView Trial)?> GetTrialAsync(Guid studyId, Guid trialId, CancellationToken cancel = default) =>
            throw new NotSupportedException();
        public Task<(ComparisonView Comparison, IReadOnlyList<StudyView> Studies, IReadOnlyList<Guid> Missing)> CompareAsync(IReadOnlyList<Guid> ids,
            CancellationToken cancel = default) =>
            throw new NotSupportedException();
    }

    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;

    /// <summary>A study of three trials: defined (1), each started and completed (2..7), completed (8) unless still running.</summary>
    private static (MemoryLedger Ledger, StudyDefined Defined) Ledger(bool finished = true)
    {
        var spec = new StudySpec("page", "tester", "fashion-mnist", new ModelSpec("mlp", 2, [8, 16, 32], "standard"),
            new OptimizerSpec("adam", [0.001]), [0], 10, 8, 10, []);
        var defined = new StudyDefined(Guid.NewGuid(), spec, GridPlanner.Plan(spec, Guid.NewGuid), "tester", At);
        var ledger = new MemoryLedger();
        ledger.Events.Add((defined, 1));
        long sequence = 1;
        foreach (var t in defined.Trials)
        {
            ledger.Events.Add((new TrialStarted(defined.StudyId, t.TrialId, 1, "w", "h", 1, "v", At), ++sequence));
            ledger.Events.Add((new TrialCompleted(defined.StudyId, t.TrialId, 1.0 / t.Width, 0.9, 1, 1, At), ++sequence));
        }
        if (finished) ledger.Events.Add((new StudyCompleted(defined.StudyId, At), ++sequence));
        return (ledger, defined);
    }

    [Fact]
    public async Task an_address_that_is_not_a_sequence_is_refused_with_a_sentence_and_the_study_shown_now()
    {
        var (ledger, defined) = Ledger();
        var page = new StudyPage(ledger, defined.StudyId);
        (await page.ShowAsync("abc")).ShouldBeTrue();
        page.Read.Problem!.ShouldContain("'abc' is not one");
        page.AsOf.ShouldBeNull();
        page.Study!.Status.ShouldBe(StudyStatus.Completed);
        // The same address again: nothing to read or draw.
        (await page.ShowAsync(null)).ShouldBeTrue();
        (await page.ShowAsync(null)).ShouldBeFalse();
    }

    [Fact]
    public async Task the_replay_steps_between_moments_keeps_the_address_and_returns_to_now_at_the_end()
    {
        var (ledger, defined) = Ledger();
        var page = new StudyPage(ledger, defined.StudyId);
        await page.ShowAsync(null);
        await page.LoadReplayAsync();
        page.Replay!.Moments.Select(m => m.Value).ShouldBe([1L, 3, 5, 7, 8]);

        var address = await page.SeekAsync(new RecordedSequence(1));
        address.ShouldBe($"/studies/{defined.StudyId}?asOf=1");
        page.Study!.Trials.ShouldAllBe(t => t.Status == TrialStatus.Scheduled);
        (await page.StepAsync(1)).ShouldBe($"/studies/{defined.StudyId}?asOf=3");
        page.Study!.Trials.Count(t => t.Status == TrialStatus.Completed).ShouldBe(1);
        page.Live.ShouldBeFalse();
        // The address the replay set is shown already: nothing to read again.
        (await page.ShowAsync("3")).ShouldBeFalse();

        // Past the last event of a study that no longer runs: the study now.
        (await page.SeekAsync(new RecordedSequence(100))).ShouldBe($"/studies/{defined.StudyId}");
        page.AsOf.ShouldBeNull();
        page.Study!.Status.ShouldBe(StudyStatus.Completed);
    }

    [Fact]
    public async Task steps_taken_faster_than_their_addresses_come_back_are_not_undone_by_an_earlier_address()
    {
        var (ledger, defined) = Ledger();
        var page = new StudyPage(ledger, defined.StudyId);
        await page.ShowAsync(null);
        await page.LoadReplayAsync();
        await page.SeekAsync(new RecordedSequence(1));
        // Three clicks before the browser reports the first address (under load): the addresses arrive after them.
        await page.StepAsync(1);
        await page.StepAsync(1);
        await page.StepAsync(1);
        page.AsOf.ShouldBe(new RecordedSequence(7));
        (await page.ShowAsync("1")).ShouldBeFalse();
        (await page.ShowAsync("3")).ShouldBeFalse();
        page.AsOf.ShouldBe(new RecordedSequence(7), "an earlier step's address arriving late moves nothing");
        (await page.StepAsync(-1)).ShouldBe($"/studies/{defined.StudyId}?asOf=5");
        (await page.ShowAsync("5")).ShouldBeFalse();
        // An address typed by the reader is shown.
        (await page.ShowAsync("3")).ShouldBeTrue();
        page.AsOf.ShouldBe(new RecordedSequence(3));
    }

    [Fact]
    public async Task play_walks_every_moment_to_the_end_and_a_running_study_is_followed_live_only_when_shown_now()
    {
        var (ledger, defined) = Ledger(finished: false);
        var page = new StudyPage(ledger, defined.StudyId);
        await page.ShowAsync(null);
        page.Live.ShouldBeTrue();
        await page.LoadReplayAsync();
        var shown = new List<string>();
        await page.PlayAsync(TimeSpan.Zero, address => { if (address is not null) shown.Add(address); return Task.CompletedTask; }, () => false);
        shown.Select(a => a[(a.IndexOf('=') + 1)..]).ShouldBe(["1", "3", "5", "7"]);
        page.Playing.ShouldBeFalse();
        page.Live.ShouldBeFalse();

        // While replaying, new events change nothing shown; back to now, they do.
        ledger.Events.Add((new StudyCompleted(defined.StudyId, At), 8));
        await page.RefreshAsync();
        page.Study!.Status.ShouldBe(StudyStatus.Running);
        await page.GoLiveAsync();
        page.Study!.Status.ShouldBe(StudyStatus.Completed);
        await page.RefreshAsync();
        page.Replay!.Last.ShouldBe(new RecordedSequence(8));
    }

    [Fact]
    public async Task a_ledger_that_cannot_be_read_is_said_on_the_page()
    {
        var (ledger, defined) = Ledger();
        ledger.Broken = true;
        var page = new StudyPage(ledger, defined.StudyId);
        await page.ShowAsync(null);
        page.Read.Failed.ShouldBeTrue();
        // The reason is kept for the log and for admins (ReadError), not put in the page's words.
        page.Read.Problem.ShouldBe("The ledger could not be read for this page.");
        page.Read.Error!.Message.ShouldBe("Event deserialization error on sequence = 3");
        page.Loaded.ShouldBeTrue();
    }
}

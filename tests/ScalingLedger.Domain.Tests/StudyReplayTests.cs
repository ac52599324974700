using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>The replay: the state at any sequence is the live fold of the events up to it; steps go moment by moment.</summary>
public class StudyReplayTests
{
    /// <summary>An event recorded in this ledger: where it sits here is where it happened.</summary>
    private static ReplayEvent Here(object data, long sequence) => new(data, new RecordedSequence(sequence), new LedgerPosition(sequence));

    private static RecordedSequence S(long sequence) => new(sequence);

    [Fact]
    public void the_state_at_a_sequence_is_the_fold_of_the_events_up_to_it_without_checkpoints()
    {
        var kit = new StudyTestKit();
        var (first, second) = (kit.Defined.Trials[0], kit.Defined.Trials[1]);
        var events = new List<ReplayEvent>
        {
            Here(kit.Defined, 1),
            Here(new TrialStarted(kit.StudyId, first.TrialId, 1, "w", "h", 1, "v", StudyTestKit.Now, null, null), 2),
            Here(new LossCheckpointRecorded(kit.StudyId, first.TrialId, 10, 1.5, 1.4, 0.5, StudyTestKit.Now), 3),
            Here(kit.Completed(first, 1.2), 4),
            Here(kit.Completed(second, 1.1), 7),
        };
        var replay = new StudyReplay(events);

        replay.First.ShouldBe(S(1));
        replay.Last.ShouldBe(S(7));
        replay.Count.ShouldBe(4);
        var atFour = replay.At(S(4));
        atFour.Trial(first.TrialId)!.FinalEvalLoss.ShouldBe(1.2);
        atFour.Trial(second.TrialId)!.Status.ShouldBe(TrialStatus.Scheduled);
        atFour.LastSequence.ShouldBe(4);
        // Between two events: the state of the earlier one.
        replay.At(S(6)).Trial(second.TrialId)!.Status.ShouldBe(TrialStatus.Scheduled);
        replay.At(S(100)).Trial(second.TrialId)!.FinalEvalLoss.ShouldBe(1.1);
        // The same as the live fold, but for the checkpoints the replay leaves out.
        var live = StudyProjection.Fold(events.Where(e => e.Sequence <= S(4)).Select(e => (e.Data, e.Sequence)));
        live.Trial(first.TrialId)!.Checkpoints.Count.ShouldBe(1);
        atFour.Trial(first.TrialId)!.Checkpoints.ShouldBeEmpty();
        atFour.Trials.Select(t => (t.TrialId, t.Status, t.FinalEvalLoss)).ShouldBe(live.Trials.Select(t => (t.TrialId, t.Status, t.FinalEvalLoss)));
    }

    [Fact]
    public void steps_go_from_moment_to_moment_and_a_refit_is_one_moment()
    {
        var kit = new StudyTestKit();
        var t = kit.Defined.Trials[0];
        var fit = new LawFitted(kit.StudyId, Guid.NewGuid(), OptimalLrLaw.LawName, "all", "f", new Dictionary<string, double> { ["c"] = -5, ["d"] = -0.5 },
            true, null, 0.9, [], [], 4, "m", LawEngine.FitterVersion, StudyTestKit.Now);
        var prediction = new PredictionIssued(kit.StudyId, Guid.NewGuid(), fit.FitId, OptimalLrLaw.LawName, "all", 256, null, 1e-3, 5e-4, 2e-3, "target", 4, [],
            LawEngine.FitterVersion, StudyTestKit.Now);
        var replay = new StudyReplay([Here(kit.Defined, 1), Here(kit.Completed(t, 1.0), 4), Here(fit, 5), Here(prediction, 6),
            Here(kit.Completed(kit.Defined.Trials[1], 0.9), 9)]);

        replay.Moments.ShouldBe([S(1), S(4), S(6), S(9)]);
        replay.Step(S(1), 1).ShouldBe(S(4));
        replay.Step(S(4), 1).ShouldBe(S(6));
        replay.Step(S(5), 1).ShouldBe(S(6));
        replay.Step(S(6), -1).ShouldBe(S(4));
        replay.Step(S(9), 1).ShouldBe(S(9));
        replay.Step(S(1), -1).ShouldBe(S(1));
        replay.OptimalLrFits(S(4)).ShouldBeEmpty();
        replay.OptimalLrFits(S(9)).Single().Sequence.ShouldBe(S(5));
    }

    [Fact]
    public void an_extension_is_a_moment_and_runs_an_ended_studys_replay_again()
    {
        var kit = new StudyTestKit();
        var t = kit.Defined.Trials[0];
        var added = new PlannedTrial(Guid.NewGuid(), 1000, 4096, 1e-3, 0);
        var width = new ExtendedWidth(4096, OptimalLrLaw.LawName, Guid.NewGuid(), 1e-3, 5e-4, 2e-3, 2.15, 1, false,
            [new ExtendedRate(1e-3, ExtendedRate.Ladder)]);
        var extended = new StudyExtended(kit.StudyId, [width], [0], [added], "alice", "where the law points", StudyTestKit.Now);
        var replay = new StudyReplay([Here(kit.Defined, 1), Here(kit.Completed(t, 1.0), 4), Here(new StudyCompleted(kit.StudyId, StudyTestKit.Now), 5)]);
        replay.StudyEnded.ShouldBeTrue();

        replay.Append([Here(extended, 7)]);

        replay.StudyEnded.ShouldBeFalse();
        replay.Moments.ShouldContain(S(7));
        replay.At(S(7)).Trials.ShouldContain(v => v.TrialId == added.TrialId && v.Status == TrialStatus.Scheduled);
        replay.At(S(7)).Extensions.Single().Says().ShouldContain("by alice");
        replay.At(S(7)).Extensions.Single().Short().ShouldBe("width 4096, 1 trials, by alice on 2026-11-28");
    }

    [Fact]
    public void appending_takes_only_newer_events()
    {
        var kit = new StudyTestKit();
        var replay = new StudyReplay([Here(kit.Defined, 1)]);
        replay.Append([Here(kit.Defined, 1), Here(kit.Completed(kit.Defined.Trials[0], 1.0), 3)]);
        replay.Count.ShouldBe(2);
        replay.Last.ShouldBe(S(3));
        replay.Moments.ShouldBe([S(1), S(3)]);
    }

    [Fact]
    public void a_study_moved_from_another_ledger_replays_where_its_events_happened_and_follows_by_this_ledgers_positions()
    {
        // Recorded at 1, 4, 5, 6 in its first ledger; it sits at 101..104 here, after another study's events.
        var kit = new StudyTestKit();
        var t = kit.Defined.Trials[0];
        var fit = new LawFitted(kit.StudyId, Guid.NewGuid(), OptimalLrLaw.LawName, "all", "f", new Dictionary<string, double> { ["c"] = -5, ["d"] = -0.5 },
            true, null, 0.9, [], [], 4, "m", LawEngine.FitterVersion, StudyTestKit.Now);
        ReplayEvent Moved(object data, long recorded, long position) => new(data, S(recorded), new LedgerPosition(position));
        var replay = new StudyReplay([Moved(kit.Defined, 1, 101), Moved(kit.Completed(t, 1.0), 4, 102), Moved(fit, 5, 103)]);

        replay.Moments.ShouldBe([S(1), S(4), S(5)]);
        replay.At(S(4)).Trial(t.TrialId)!.EndedSequence.ShouldBe(4);
        replay.At(S(4)).LastSequence.ShouldBe(4);
        replay.OptimalLrFits(S(5)).Single().Sequence.ShouldBe(S(5));
        replay.LastPosition.ShouldBe(new LedgerPosition(103));

        // The import's record, recorded here: newer by position, and placed after the history it brought.
        replay.Append([Moved(fit, 5, 103), Moved(new StudyCompleted(kit.StudyId, StudyTestKit.Now), 150, 150)]);
        replay.Count.ShouldBe(4);
        replay.Last.ShouldBe(S(150));
        replay.LastPosition.ShouldBe(new LedgerPosition(150));
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>The replay: the state at any sequence is the live fold of the events up to it; steps go moment by moment.</summary>
public class StudyReplayTests
{
    [Fact]
    public void the_state_at_a_sequence_is_the_fold_of_the_events_up_to_it_without_checkpoints()
    {
        var kit = new StudyTestKit();
        var (first, second) = (kit.Defined.Trials[0], kit.Defined.Trials[1]);
        var events = new List<(object Data, long Sequence)>
        {
            (kit.Defined, 1),
            (new TrialStarted(kit.StudyId, first.TrialId, 1, "w", "h", 1, "v", StudyTestKit.Now, null, null), 2),
            (new LossCheckpointRecorded(kit.StudyId, first.TrialId, 10, 1.5, 1.4, 0.5, StudyTestKit.Now), 3),
            (kit.Completed(first, 1.2), 4),
            (kit.Completed(second, 1.1), 7),
        };
        var replay = new StudyReplay(events);

        replay.First.ShouldBe(1);
        replay.Last.ShouldBe(7);
        replay.Count.ShouldBe(4);
        var atFour = replay.At(4);
        atFour.Trial(first.TrialId)!.FinalEvalLoss.ShouldBe(1.2);
        atFour.Trial(second.TrialId)!.Status.ShouldBe(TrialStatus.Scheduled);
        atFour.LastSequence.ShouldBe(4);
        // Between two events: the state of the earlier one.
        replay.At(6).Trial(second.TrialId)!.Status.ShouldBe(TrialStatus.Scheduled);
        replay.At(100).Trial(second.TrialId)!.FinalEvalLoss.ShouldBe(1.1);
        // The same as the live fold, but for the checkpoints the replay leaves out.
        var live = StudyProjection.Fold(events.Where(e => e.Sequence <= 4));
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
        var replay = new StudyReplay([(kit.Defined, 1), (kit.Completed(t, 1.0), 4), (fit, 5), (prediction, 6), (kit.Completed(kit.Defined.Trials[1], 0.9), 9)]);

        replay.Moments.ShouldBe([1L, 4, 6, 9]);
        replay.Step(1, 1).ShouldBe(4);
        replay.Step(4, 1).ShouldBe(6);
        replay.Step(5, 1).ShouldBe(6);
        replay.Step(6, -1).ShouldBe(4);
        replay.Step(9, 1).ShouldBe(9);
        replay.Step(1, -1).ShouldBe(1);
        replay.OptimalLrFits(4).ShouldBeEmpty();
        replay.OptimalLrFits(9).Single().Sequence.ShouldBe(5);
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
        var replay = new StudyReplay([(kit.Defined, 1), (kit.Completed(t, 1.0), 4), (new StudyCompleted(kit.StudyId, StudyTestKit.Now), 5)]);
        replay.StudyEnded.ShouldBeTrue();

        replay.Append([(extended, 7)]);

        replay.StudyEnded.ShouldBeFalse();
        replay.Moments.ShouldContain(7L);
        replay.At(7).Trials.ShouldContain(v => v.TrialId == added.TrialId && v.Status == TrialStatus.Scheduled);
        replay.At(7).Extensions.Single().Says().ShouldContain("by alice");
        replay.At(7).Extensions.Single().Short().ShouldBe("width 4096, 1 trials, by alice on 2026-11-28");
    }

    [Fact]
    public void appending_takes_only_newer_events()
    {
        var kit = new StudyTestKit();
        var replay = new StudyReplay([(kit.Defined, 1)]);
        replay.Append([(kit.Defined, 1), (kit.Completed(kit.Defined.Trials[0], 1.0), 3)]);
        replay.Count.ShouldBe(2);
        replay.Last.ShouldBe(3);
        replay.Moments.ShouldBe([1L, 3]);
    }
}

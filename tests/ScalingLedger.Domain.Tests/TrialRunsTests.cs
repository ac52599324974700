using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>Attempts where they happen: each delivery of a trial's command is a run, and each run that starts is an attempt.</summary>
public class TrialRunsTests
{
    private static readonly Guid RunA = Guid.NewGuid(), RunB = Guid.NewGuid();

    private static TrialStarted Start(StudyTestKit kit, PlannedTrial t, Guid run, int commandAttempt = 1) =>
        new(kit.StudyId, t.TrialId, commandAttempt, "w", "h", 1, "0.107", StudyTestKit.Now, RunId: run);

    private static LossCheckpointRecorded Checkpoint(StudyTestKit kit, PlannedTrial t, int step, double loss = 1.0) =>
        new(kit.StudyId, t.TrialId, step, loss, loss, 0.5, StudyTestKit.Now);

    /// <summary>Decides a report from <paramref name="run"/> as the Server does (<see cref="ReportDecisions"/>), records it, returns it.</summary>
    private static IReadOnlyList<object> Report(StudyTestKit kit, Guid run, object report)
    {
        var decided = ReportDecisions.Decide(report, run, kit.View, kit.View.Trial(((ITrialReport)report).TrialId)).Events;
        kit.Given([.. decided]);
        return decided;
    }

    [Fact]
    public void A_command_delivered_again_after_its_trainer_died_is_a_new_attempt_with_a_curve_of_its_own()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        Report(kit, RunA, Start(kit, t, RunA));
        Report(kit, RunA, Checkpoint(kit, t, 10, 2.0)).ShouldHaveSingleItem().ShouldBeOfType<LossCheckpointRecorded>().Attempt.ShouldBe(1);
        Report(kit, RunA, Checkpoint(kit, t, 20, 1.9));

        // The same command (attempt 1) delivered again to another trainer: its start is attempt 2, whatever the command said.
        var started = Report(kit, RunB, Start(kit, t, RunB, commandAttempt: 1)).ShouldHaveSingleItem().ShouldBeOfType<TrialStarted>();
        started.Attempt.ShouldBe(2);
        var trial = kit.View.Trial(t.TrialId)!;
        trial.Attempt.ShouldBe(2);
        trial.RunId.ShouldBe(RunB);
        trial.Checkpoints.ShouldBeEmpty("attempt 2's curve starts empty");

        Report(kit, RunB, Checkpoint(kit, t, 10, 2.1)).ShouldHaveSingleItem().ShouldBeOfType<LossCheckpointRecorded>().Attempt.ShouldBe(2);
        // The first run, still going somewhere, no longer counts.
        TrialRuns.Of(kit.View.Trial(t.TrialId)!, RunA, Checkpoint(kit, t, 30)).ShouldBe(RunStanding.Stale);
        TrialRuns.Of(kit.View.Trial(t.TrialId)!, RunB, Start(kit, t, RunB)).ShouldBe(RunStanding.Stale, "a redelivered start records nothing");
        kit.View.Trial(t.TrialId)!.Checkpoints.Select(c => (c.Step, c.EvalLoss)).ShouldBe([(10, 2.1)]);
    }

    [Fact]
    public void The_superseded_run_is_named_so_its_trainer_can_be_told_to_stop()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        Report(kit, RunA, Start(kit, t, RunA));
        var before = kit.View.Trial(t.TrialId)!;
        var recorded = TrialRuns.DecideStart(kit.View, before, Start(kit, t, RunB));
        TrialRuns.Superseded(before, recorded).ShouldBe(RunA);
        TrialRuns.Superseded(before, []).ShouldBeNull();
    }

    [Fact]
    public void Reports_that_come_before_their_runs_start_wait_and_checkpoints_after_the_end_are_still_the_attempts()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        TrialRuns.Of(kit.View.Trial(t.TrialId)!, RunA, Checkpoint(kit, t, 10)).ShouldBe(RunStanding.Early);
        TrialRuns.Of(kit.View.Trial(t.TrialId)!, RunA, kit.Completed(t, 0.5)).ShouldBe(RunStanding.Early);
        Report(kit, RunA, Start(kit, t, RunA));
        Report(kit, RunA, kit.Completed(t, 0.5)).ShouldHaveSingleItem();
        // Another Server took the last checkpoints and recorded them after the end: they are the attempt's, once each.
        Report(kit, RunA, Checkpoint(kit, t, 10)).ShouldHaveSingleItem();
        Report(kit, RunA, Checkpoint(kit, t, 10)).ShouldBeEmpty();
        kit.View.Trial(t.TrialId)!.Checkpoints.ShouldHaveSingleItem().Step.ShouldBe(10);
        kit.View.Trial(t.TrialId)!.Status.ShouldBe(TrialStatus.Completed);
    }

    [Fact]
    public void A_run_that_fails_before_it_can_start_fails_the_next_attempt()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        var failed = new TrialFailed(kit.StudyId, t.TrialId, "IOException: no data", StudyTestKit.Now, 1);
        TrialRuns.Of(kit.View.Trial(t.TrialId)!, RunA, failed).ShouldBe(RunStanding.FailedUnstarted);
    }

    [Fact]
    public void A_trial_whose_trainer_is_silent_past_its_lease_fails_that_attempt_and_is_owed_again_until_its_attempts_are_used()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        TrialRuns.Owed(kit.View, kit.View.Trial(t.TrialId)!).ShouldBe(1);
        var lease = TimeSpan.FromSeconds(60);
        var runs = new[] { RunA, RunB, Guid.NewGuid() };
        for (var attempt = 1; attempt <= StudyDecisions.MaxAttempts; attempt++)
        {
            Report(kit, runs[attempt - 1], Start(kit, t, runs[attempt - 1], attempt));
            var trial = kit.View.Trial(t.TrialId)!;
            TrialRuns.Owed(kit.View, trial).ShouldBeNull("a running trial is owed nothing");
            var heard = StudyTestKit.Now;
            TrialRuns.DecideLeaseExpired(kit.View, trial, heard, lease, heard + TimeSpan.FromSeconds(59)).ShouldBeEmpty("within the lease");
            var expired = TrialRuns.DecideLeaseExpired(kit.View, trial, heard, lease, heard + TimeSpan.FromSeconds(61)).ShouldHaveSingleItem();
            kit.Given(expired);
            if (attempt < StudyDecisions.MaxAttempts)
            {
                var failed = expired.ShouldBeOfType<TrialAttemptFailed>();
                failed.Attempt.ShouldBe(attempt);
                failed.Error.ShouldContain("presumed dead");
                TrialRuns.Owed(kit.View, kit.View.Trial(t.TrialId)!).ShouldBe(attempt + 1);
            }
            else
            {
                expired.ShouldBeOfType<TrialFailed>().Error.ShouldContain($"attempt 3 of {StudyDecisions.MaxAttempts}");
                kit.View.Trial(t.TrialId)!.Status.ShouldBe(TrialStatus.Failed);
                TrialRuns.Owed(kit.View, kit.View.Trial(t.TrialId)!).ShouldBeNull();
            }
        }
    }

    [Fact]
    public void A_start_past_the_last_attempt_ends_the_trial_and_a_trainer_gone_with_its_server_needs_no_lease()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        for (var attempt = 1; attempt <= StudyDecisions.MaxAttempts; attempt++) Report(kit, Guid.NewGuid(), Start(kit, t, Guid.NewGuid()));
        kit.View.Trial(t.TrialId)!.Attempt.ShouldBe(StudyDecisions.MaxAttempts);
        var fourth = Guid.NewGuid();
        Report(kit, fourth, Start(kit, t, fourth)).ShouldHaveSingleItem().ShouldBeOfType<TrialFailed>();

        var other = new StudyTestKit();
        var u = other.Trial(32, 0.001);
        Report(other, RunA, Start(other, u, RunA));
        TrialRuns.DecideLeaseExpired(other.View, other.View.Trial(u.TrialId)!, StudyTestKit.Now, TimeSpan.FromMinutes(10), StudyTestKit.Now,
            trainerGone: true).ShouldHaveSingleItem().ShouldBeOfType<TrialAttemptFailed>().Error.ShouldContain("inside a Server that stopped");
    }

    [Fact]
    public void Reports_of_trainers_that_name_no_run_are_decided_as_before()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        var start = new TrialStarted(kit.StudyId, t.TrialId, 1, "w", "h", 1, "0.107", StudyTestKit.Now);
        TrialRuns.Of(kit.View.Trial(t.TrialId)!, null, start).ShouldBe(RunStanding.Counted);
        kit.Report(start).ShouldHaveSingleItem();
        kit.Report(start).ShouldBeEmpty("a redelivered start of the same attempt");
        // A checkpoint stored by an earlier version (no attempt) is the attempt current when it was recorded.
        kit.Given(Checkpoint(kit, t, 10));
        kit.View.Trial(t.TrialId)!.Checkpoints.ShouldHaveSingleItem();
        kit.View.Trial(t.TrialId)!.RunId.ShouldBeNull();
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class StudyDecisionTests
{
    [Fact]
    public void Given_a_defined_study_Then_every_trial_is_scheduled_and_the_study_runs()
    {
        var kit = new StudyTestKit();
        kit.View.Status.ShouldBe(StudyStatus.Running);
        kit.View.Trials.ShouldAllBe(t => t.Status == TrialStatus.Scheduled);
        kit.View.Trials.Count.ShouldBe(12);
        kit.View.LastSequence.ShouldBe(1);
    }

    [Fact]
    public void When_a_trial_start_is_redelivered_Then_nothing_new_is_recorded()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        var started = new TrialStarted(kit.StudyId, t.TrialId, 1, "w", "h", 2, "0.107", StudyTestKit.Now);
        kit.Report(started).ShouldBe([started]);
        kit.Report(started).ShouldBeEmpty();
        kit.View.Trial(t.TrialId)!.Status.ShouldBe(TrialStatus.Running);
        kit.Report(started with { Attempt = 2 }).Count.ShouldBe(1);
    }

    [Fact]
    public void When_a_checkpoint_is_redelivered_Then_it_is_recorded_once()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        var checkpoint = new LossCheckpointRecorded(kit.StudyId, t.TrialId, 250, 0.6, 0.55, 0.8, StudyTestKit.Now);
        kit.Report(checkpoint).Count.ShouldBe(1);
        kit.Report(checkpoint).ShouldBeEmpty();
        kit.Report(checkpoint with { Step = 500 }).Count.ShouldBe(1);
        kit.View.Trial(t.TrialId)!.Checkpoints.Select(c => c.Step).ShouldBe([250, 500]);
    }

    [Fact]
    public void When_a_trial_has_ended_Then_later_reports_about_it_are_ignored()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        kit.Report(kit.Completed(t, 0.4)).Count.ShouldBe(1);
        kit.Report(kit.Completed(t, 0.3)).ShouldBeEmpty();
        kit.Report(new LossCheckpointRecorded(kit.StudyId, t.TrialId, 250, 1, 1, 0.1, StudyTestKit.Now)).ShouldBeEmpty();
        kit.View.Trial(t.TrialId)!.FinalEvalLoss.ShouldBe(0.4);
    }

    [Fact]
    public void a_report_about_an_unknown_trial_decides_nothing()
    {
        var kit = new StudyTestKit();
        kit.Report(new TrialFailed(kit.StudyId, Guid.NewGuid(), "x", StudyTestKit.Now)).ShouldBeEmpty();
    }

    [Fact]
    public void When_the_study_is_cancelled_Then_scheduled_trials_are_cancelled_and_the_running_one_waits_for_its_trainer()
    {
        var kit = new StudyTestKit();
        var running = kit.Trial(32, 0.001);
        kit.Given(new TrialStarted(kit.StudyId, running.TrialId, 1, "w", "h", 2, "0.107", StudyTestKit.Now));
        var events = TestLaws.DecideCancel(kit.View, "alice", "wasting compute", StudyTestKit.Now);
        events[0].ShouldBeOfType<StudyCancelled>();
        events.OfType<TrialCancelled>().Count().ShouldBe(11);
        kit.Given([.. events]);
        kit.View.Status.ShouldBe(StudyStatus.Cancelled);
        kit.View.Trial(running.TrialId)!.Status.ShouldBe(TrialStatus.Running);
        TestLaws.DecideCancel(kit.View, "alice", null, StudyTestKit.Now).ShouldBeEmpty();
        TestLaws.TrialsToDispatch(kit.View).ShouldBeEmpty();
        // A trainer that starts a trial of a cancelled study gets it recorded as cancelled.
        var late = kit.Report(new TrialStarted(kit.StudyId, kit.Trial(512, 0.01).TrialId, 1, "w", "h", 2, "0.107", StudyTestKit.Now));
        late.ShouldBeEmpty(); // it was already cancelled while scheduled
    }

    [Fact]
    public void the_study_completes_only_when_every_trial_has_ended()
    {
        var kit = new StudyTestKit();
        var trials = kit.Defined.Trials;
        foreach (var t in trials.Take(trials.Count - 1)) kit.Given(kit.Completed(t, 0.5));
        TestLaws.DecideCompletion(kit.View, StudyTestKit.Now).ShouldBeEmpty();
        kit.Given(kit.Diverged(trials[^1]));
        TestLaws.DecideCompletion(kit.View, StudyTestKit.Now).Single().ShouldBeOfType<StudyCompleted>();
        kit.Given(new StudyCompleted(kit.StudyId, StudyTestKit.Now));
        TestLaws.DecideCompletion(kit.View, StudyTestKit.Now).ShouldBeEmpty();
    }

    [Fact]
    public void unfinished_trials_are_dispatched_again_in_planned_order()
    {
        var kit = new StudyTestKit();
        var first = kit.Defined.Trials[0];
        kit.Given(kit.Completed(first, 0.5));
        var pending = TestLaws.TrialsToDispatch(kit.View);
        pending.Count.ShouldBe(11);
        pending.Select(t => t.Order).ShouldBe(pending.Select(t => t.Order).Order());
    }

    [Fact]
    public void folding_is_pure_the_same_events_give_the_same_view()
    {
        var kit = new StudyTestKit();
        kit.FinishAll(t => 0.3 + t.Order * 0.01);
        var events = new List<(object, RecordedSequence)> { (kit.Defined, new RecordedSequence(1)) };
        events.AddRange(kit.Defined.Trials.Select((t, i) => ((object)kit.Completed(t, 0.3 + t.Order * 0.01), new RecordedSequence(i + 2))));
        var refolded = StudyProjection.Fold(events);
        refolded.Trials.Select(t => t.FinalEvalLoss).ShouldBe(kit.View.Trials.Select(t => t.FinalEvalLoss));
        refolded.LastSequence.ShouldBe(kit.View.LastSequence);
    }

    [Fact]
    public void a_trial_whose_last_attempt_falls_silent_is_given_up_not_sent_again()
    {
        var kit = new StudyTestKit();
        var stuck = kit.Trial(512, 0.01);
        var fine = kit.Trial(512, 0.001);
        kit.Given(new TrialStarted(kit.StudyId, stuck.TrialId, StudyDecisions.MaxAttempts, "w", "h", 2, "0.107", StudyTestKit.Now),
                  new TrialStarted(kit.StudyId, fine.TrialId, 1, "w", "h", 2, "0.107", StudyTestKit.Now));
        var later = StudyTestKit.Now.AddMinutes(5);
        var lease = TimeSpan.FromMinutes(1);
        var gaveUp = TrialRuns.DecideLeaseExpired(kit.View, kit.View.Trial(stuck.TrialId)!, StudyTestKit.Now, lease, later);
        gaveUp.Single().ShouldBeOfType<TrialFailed>().TrialId.ShouldBe(stuck.TrialId);
        var retried = TrialRuns.DecideLeaseExpired(kit.View, kit.View.Trial(fine.TrialId)!, StudyTestKit.Now, lease, later);
        retried.Single().ShouldBeOfType<TrialAttemptFailed>().Attempt.ShouldBe(1);
        kit.Given([.. gaveUp, .. retried]);
        TestLaws.TrialsToDispatch(kit.View).Select(t => t.TrialId).ShouldNotContain(stuck.TrialId);
        TestLaws.TrialsToDispatch(kit.View).Select(t => t.TrialId).ShouldContain(fine.TrialId);
        TrialRuns.DecideLeaseExpired(kit.View, kit.View.Trial(stuck.TrialId)!, StudyTestKit.Now, lease, later).ShouldBeEmpty();
    }
}

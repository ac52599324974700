using System.Diagnostics;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>What a trainer may report: refused alone, for a reason that names it.</summary>
public class ReportValidationTests
{
    private static readonly StudyTestKit Kit = new();
    private static PlannedTrial T => Kit.Trial(32, 0.001);
    private static LossCheckpointRecorded Checkpoint(int step, double loss = 0.5) => new(Kit.StudyId, T.TrialId, step, loss, loss, 0.8, StudyTestKit.Now);
    private static TrialStarted Started(int attempt) => new(Kit.StudyId, T.TrialId, attempt, "w", "h", 2, "0.107", StudyTestKit.Now);

    [Theory]
    [InlineData(double.NaN, "not a finite, non-negative loss")]
    [InlineData(double.PositiveInfinity, "not a finite, non-negative loss")] // what System.Text.Json reads 1e400 as
    [InlineData(-0.1, "not a finite, non-negative loss")]
    public void A_loss_the_ledger_cannot_hold_or_that_is_no_loss_is_refused(double loss, string why) =>
        ReportValidation.Shape(Checkpoint(10, loss))!.ShouldContain(why);

    [Theory]
    [InlineData(99, "attempt 99")]
    [InlineData(-1, "attempt -1")]
    [InlineData(0, "attempt 0")]
    public void An_attempt_out_of_range_is_refused(int attempt, string why) =>
        ReportValidation.Shape(Started(attempt))!.ShouldContain(why);

    [Fact]
    public void Strings_the_store_cannot_keep_are_refused()
    {
        ReportValidation.Shape(Started(1) with { WorkerId = "w\0" })!.ShouldContain("NUL");
        ReportValidation.Shape(Started(1) with { HostName = new string('h', 201) })!.ShouldContain("201 characters");
        ReportValidation.Shape(new TrialFailed(Kit.StudyId, T.TrialId, "boom", StudyTestKit.Now, 1, "stack\n  at A.B()")).ShouldBeNull();
    }

    [Fact]
    public void A_message_of_100000_checkpoints_is_refused_before_any_is_read()
    {
        var many = Enumerable.Range(1, 100_000).Select(i => Checkpoint(i)).ToList();
        var clock = Stopwatch.StartNew();
        var problem = ReportValidation.Shape(new LossCheckpointsRecorded(Kit.StudyId, T.TrialId, many));
        clock.Stop();
        problem!.ShouldContain("100000 checkpoints in one message");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void A_report_that_does_not_fit_its_trial_is_refused_and_one_that_does_passes()
    {
        var study = Kit.View;
        var scheduled = study.Trial(T.TrialId)!;
        ReportValidation.AgainstTrial(Checkpoint(10), study, scheduled)!.ShouldContain("start was never recorded");
        ReportValidation.AgainstTrial(Started(3), study, scheduled)!.ShouldContain("the ledger sent attempt 1");
        ReportValidation.AgainstTrial(Started(1), study, scheduled).ShouldBeNull();
        ReportValidation.AgainstTrial(Checkpoint(10), study, null)!.ShouldContain($"no trial {T.TrialId}");
        ReportValidation.AgainstTrial(Checkpoint(10), null, null)!.ShouldContain($"no study {Kit.StudyId}");

        var running = new StudyTestKit();
        running.Given(new TrialStarted(running.StudyId, running.Trial(32, 0.001).TrialId, 1, "w", "h", 2, "0.107", StudyTestKit.Now));
        var trial = running.View.Trial(running.Trial(32, 0.001).TrialId)!;
        var steps = running.View.Spec!.Steps;
        LossCheckpointRecorded At(int step) => new(running.StudyId, trial.TrialId, step, 0.5, 0.5, 0.8, StudyTestKit.Now);
        ReportValidation.AgainstTrial(At(steps), running.View, trial).ShouldBeNull();
        ReportValidation.AgainstTrial(At(steps + 1), running.View, trial)!.ShouldContain($"outside the trial's 1 to {steps}");
        ReportValidation.AgainstTrial(new LossCheckpointsRecorded(running.StudyId, trial.TrialId, [At(10), At(steps + 5)]), running.View, trial)!
            .ShouldContain("outside");
    }
}

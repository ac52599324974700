using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>Trials that fail for reasons that are not the model's: retried as new attempts, and never silently absorbed by the laws.</summary>
public class FailedTrialTests
{
    private static TrialStarted Started(StudyTestKit kit, PlannedTrial t, int attempt) =>
        new(kit.StudyId, t.TrialId, attempt, "w", "h", 1, "0.107", StudyTestKit.Now);

    private static TrialFailed Failed(StudyTestKit kit, PlannedTrial t, int? attempt) =>
        new(kit.StudyId, t.TrialId, "ExternalException: Expected false to be true, but got false.", StudyTestKit.Now, attempt,
            "System.Runtime.InteropServices.ExternalException (0x80004005): Expected false to be true ...\n frame #0: c10::Error::Error ...");

    [Fact]
    public void Given_a_failed_attempt_below_the_limit_Then_the_failure_is_recorded_and_the_trial_waits_for_its_next_attempt()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        kit.Report(Started(kit, t, 1));
        var recorded = kit.Report(Failed(kit, t, 1));
        var attemptFailed = recorded.ShouldHaveSingleItem().ShouldBeOfType<TrialAttemptFailed>();
        attemptFailed.Attempt.ShouldBe(1);
        attemptFailed.Detail!.ShouldContain("frame #0");
        var trial = kit.View.Trial(t.TrialId)!;
        trial.Status.ShouldBe(TrialStatus.Scheduled);
        trial.IsTerminal.ShouldBeFalse();
        trial.FailedAttempts.ShouldHaveSingleItem().Error.ShouldStartWith("ExternalException");
        StudyDecisions.TrialsToRetry(recorded).ShouldHaveSingleItem().Attempt.ShouldBe(2);
        // The study does not complete around a trial that will run again.
        foreach (var other in kit.Defined.Trials.Where(p => p.TrialId != t.TrialId)) kit.Given(kit.Completed(other, 0.4));
        TestLaws.DecideCompletion(kit.View, StudyTestKit.Now).ShouldBeEmpty();
        TestLaws.TrialsToDispatch(kit.View).ShouldHaveSingleItem().TrialId.ShouldBe(t.TrialId); // resent after a restart too
    }

    [Fact]
    public void When_a_failure_is_redelivered_or_stale_Then_nothing_new_is_recorded()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        kit.Report(Started(kit, t, 1));
        kit.Report(Failed(kit, t, 1)).Count.ShouldBe(1);
        kit.Report(Failed(kit, t, 1)).ShouldBeEmpty();
        // A redelivered start of the failed attempt is stale too; the next attempt's start is not.
        kit.Report(Started(kit, t, 1)).ShouldBeEmpty();
        kit.Report(Started(kit, t, 2)).Count.ShouldBe(1);
        kit.Report(Failed(kit, t, 1)).ShouldBeEmpty();
        kit.View.Trial(t.TrialId)!.Status.ShouldBe(TrialStatus.Running);
    }

    [Fact]
    public void Given_every_attempt_failed_Then_the_last_failure_ends_the_trial_and_the_earlier_ones_stay_in_the_ledger()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        for (var attempt = 1; attempt < StudyDecisions.MaxAttempts; attempt++)
        {
            kit.Report(Started(kit, t, attempt));
            kit.Report(Failed(kit, t, attempt)).ShouldHaveSingleItem().ShouldBeOfType<TrialAttemptFailed>();
        }
        kit.Report(Started(kit, t, StudyDecisions.MaxAttempts));
        var last = kit.Report(Failed(kit, t, StudyDecisions.MaxAttempts));
        last.ShouldHaveSingleItem().ShouldBeOfType<TrialFailed>().Detail!.ShouldContain("frame #0");
        StudyDecisions.TrialsToRetry(last).ShouldBeEmpty();
        var trial = kit.View.Trial(t.TrialId)!;
        trial.Status.ShouldBe(TrialStatus.Failed);
        trial.FailureDetail!.ShouldContain("ExternalException");
        trial.FailedAttempts.Select(a => a.Attempt).ShouldBe(Enumerable.Range(1, StudyDecisions.MaxAttempts - 1));
    }

    [Fact]
    public void a_failure_from_a_trainer_that_does_not_name_its_attempt_counts_against_the_trials_latest_attempt()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        kit.Report(Started(kit, t, StudyDecisions.MaxAttempts));
        kit.Report(Failed(kit, t, attempt: null)).ShouldHaveSingleItem().ShouldBeOfType<TrialFailed>();
    }

    [Fact]
    public void a_failure_in_a_cancelled_study_ends_the_trial()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        kit.Report(Started(kit, t, 1));
        kit.Given([.. TestLaws.DecideCancel(kit.View, "alice", null, StudyTestKit.Now)]);
        kit.Report(Failed(kit, t, 1)).ShouldHaveSingleItem().ShouldBeOfType<TrialFailed>();
    }

    /// <summary>
    /// The grid of issue 7's muP probe: widths 32..512, rates 1e-4..3e-2, two seeds, a flat optimum near 3.5e-3 (muP's
    /// promise). <paramref name="failed"/> cells end as failed (every seed).
    /// </summary>
    private static StudyTestKit MupProbe(Func<int, double, bool> failed)
    {
        double[] rates = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2];
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, [32, 64, 128, 256, 512], "mup", 32),
            Optimizer = new OptimizerSpec("adam", rates),
            Seeds = [0, 1],
            TargetWidths = [2048],
        };
        var kit = new StudyTestKit(spec);
        foreach (var t in kit.Defined.Trials)
        {
            if (failed(t.Width, t.LearningRate))
            {
                kit.Given(new TrialFailed(kit.StudyId, t.TrialId, "ExternalException: Unknown scalar type.", StudyTestKit.Now, 3, null));
                continue;
            }
            var distance = Math.Log(t.LearningRate) - Math.Log(3.5e-3);
            kit.Given(kit.Completed(t, 0.45 - 0.02 * Math.Log(t.Width) + 0.01 * distance * distance + t.Seed * 1e-4));
        }
        return kit;
    }

    [Fact]
    public void Given_the_cells_beside_a_widths_best_rate_failed_Then_the_learning_rate_laws_leave_that_width_out_and_say_which_cells_are_missing()
    {
        // Width 256 kept only 1e-4, 3e-4 and 3e-2 (issue 7): its best rate with a result is 3e-2 at the grid's edge.
        var holes = MupProbe((w, lr) => w == 256 && lr is 1e-3 or 3e-3 or 1e-2);
        var analysis = OptimalLearningRate.Analyse(holes.View.Trials);
        analysis.Optima.Select(o => o.Width).ShouldBe([32, 64, 128, 512]);
        analysis.Excluded.ShouldHaveSingleItem().ShouldContain("width 256");
        analysis.Excluded[0].ShouldContain("0.01");

        var fit = TestLaws.OptimalLr(holes.View.Trials)!;
        fit.Points.Select(p => p.X).ShouldBe([32, 64, 128, 512]);
        fit.Message.ShouldNotBeNull();
        fit.Message.ShouldContain("width 256 at lr 0.001, 0.003, 0.01");
        fit.Parameters["d"].ShouldBe(0, 0.05); // the flat law muP promises, not a slope made by the hole
        var frontier = TestLaws.TunedFrontierPower(holes.View.Trials)!;
        frontier.Points.Select(p => p.X).ShouldNotContain(256);
        frontier.Message!.ShouldContain("width 256");

        // The same grid without holes uses every width.
        var whole = MupProbe((_, _) => false);
        TestLaws.OptimalLr(whole.View.Trials)!.Points.Count.ShouldBe(5);
        TestLaws.OptimalLr(whole.View.Trials)!.Message.ShouldBeNull();
    }

    [Fact]
    public void a_hole_away_from_the_best_rate_keeps_the_width_and_is_still_named()
    {
        var kit = MupProbe((w, lr) => w == 128 && lr == 1e-4);
        var fit = TestLaws.OptimalLr(kit.View.Trials)!;
        fit.Points.Count.ShouldBe(5);
        fit.Message!.ShouldContain("width 128 at lr 0.0001");
    }

    [Fact]
    public void a_fixed_lr_law_says_at_which_widths_its_curve_has_a_hole()
    {
        var kit = MupProbe((w, lr) => w == 256 && lr == 1e-3);
        var fit = TestLaws.FixedLrLogLinear(kit.View.Trials).Single(f => f.Key == "lr=0.001");
        fit.Points.Select(p => p.X).ShouldBe([32, 64, 128, 512]);
        fit.Message!.ShouldContain("No result at width(s) 256");
        TestLaws.FixedLrLogLinear(kit.View.Trials).Single(f => f.Key == "lr=0.003").Message.ShouldBeNull();
    }

    [Fact]
    public void a_fit_recorded_by_fitter_2_0_0_over_holes_is_audited_with_its_own_method()
    {
        // Fitter 2.0.0 took width 256's optimum at the grid's edge despite the holes beside it; this fitter leaves it out.
        var kit = MupProbe((w, lr) => w == 256 && lr is 1e-3 or 3e-3 or 1e-2);
        LawFitted Recorded(string? fitter) => LawEngine.ToEvent(kit.StudyId,
            LawEngine.Fit(kit.View.Trials, kit.View.Spec, OptimalLrLaw.LawName, "all", new FitOptions(Fitter: fitter))!,
            Guid.NewGuid(), kit.View.LastSequence, StudyTestKit.Now) with
        { FitterVersion = fitter ?? LawEngine.FitterVersion };
        var old = Recorded("2.0.0");
        old.Points.Select(p => p.X).ShouldContain(256);

        var audit = FitAudit.Verify(kit.View, old);
        audit.Verified.ShouldBeTrue(string.Join("; ", audit.Differences));
        audit.Note!.ShouldContain("2.0.0");
        // The same evidence, fitted the way this fitter fits, is another law; labelled 2.1.0, the old fit would not verify.
        Recorded(null).Points.Select(p => p.X).ShouldNotContain(256);
        FitAudit.Verify(kit.View, old with { FitterVersion = LawEngine.FitterVersion }).Verified.ShouldBeFalse();
    }
}

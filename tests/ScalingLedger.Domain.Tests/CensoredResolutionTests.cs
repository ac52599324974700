using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// A width whose best rate is at the grid's edge, or beside a hole, is an interval-censored observation of its optimum: it
/// resolves the claims about it against the bounds its results give (a miss when the whole interval lies on the wrong
/// side) instead of leaving them open for ever.
/// </summary>
public class CensoredResolutionTests
{
    private static readonly double[] Rates = [1e-3, 1e-2, 1e-1];

    /// <summary>Widths 16 and 32, seeds 0 and 1; at width 32 the best rate is the grid's smallest (1e-3).</summary>
    private static StudyTestKit EdgeAt32() =>
        new StudyTestKit(Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, [16, 32], "standard"),
            Optimizer = new OptimizerSpec("adam", Rates),
            Seeds = [0, 1],
        }).FinishAll(t => 0.5 + (t.Width == 32 ? Math.Log10(t.LearningRate / 1e-3) : Math.Abs(Math.Log10(t.LearningRate / 1e-2))) * 0.1
                          + 0.001 * t.Seed);

    private static PredictionIssued Claim(StudyTestKit kit, string law, double predicted, double lower, double upper) =>
        new(kit.StudyId, Guid.NewGuid(), Guid.NewGuid(), law, LawKeys.All, 32, null, predicted, lower, upper, "planned", 1, [],
            LawEngine.FitterVersion, StudyTestKit.Now);

    [Fact]
    public void an_optimum_at_the_grids_edge_is_bounded_by_the_next_rate_with_a_result()
    {
        var kit = EdgeAt32();
        var at32 = OptimalLearningRate.Analyse(kit.View.Trials.Where(t => t.Width == 32));
        at32.Optima.ShouldBeEmpty();
        var bound = at32.Censored.ShouldHaveSingleItem();
        (bound.LearningRate, bound.AtLeastRate, bound.AtMostRate).ShouldBe((1e-3, (double?)null, (double?)1e-2));
        bound.Why.ShouldContain("smallest");

        var observed = TestLaws.Observe(kit.View, OptimalLrLaw.LawName, LawKeys.All, 32)!;
        (observed.Value, observed.AtLeast, observed.AtMost, observed.IsCensored).ShouldBe(((double?)1e-3, (double?)null, (double?)1e-2, true));
        // The best loss there is at most the best mean seen.
        var frontier = TestLaws.Observe(kit.View, TunedFrontierPowerLaw.LawName, LawKeys.All, 32)!;
        frontier.AtMost.ShouldBe(frontier.Value);
        frontier.AtLeast.ShouldBeNull();
        // Width 16 is bracketed: a value, not a range.
        TestLaws.Observe(kit.View, OptimalLrLaw.LawName, LawKeys.All, 16)!.IsCensored.ShouldBeFalse();
    }

    [Fact]
    public void a_hole_beside_the_best_rate_bounds_the_optimum_by_the_nearest_results_on_either_side()
    {
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, [16], "standard"),
            Optimizer = new OptimizerSpec("adam", [1e-4, 1e-3, 1e-2, 1e-1]),
            Seeds = [0],
        };
        var kit = new StudyTestKit(spec);
        foreach (var t in kit.Defined.Trials)
            kit.Given(t.LearningRate == 1e-2
                ? new TrialFailed(kit.StudyId, t.TrialId, "out of memory", StudyTestKit.Now)
                : kit.Completed(t, 1 + Math.Abs(Math.Log10(t.LearningRate / 1e-3))));
        var bound = OptimalLearningRate.Analyse(kit.View.Trials).Censored.ShouldHaveSingleItem();
        (bound.AtLeastRate, bound.AtMostRate).ShouldBe(((double?)1e-4, (double?)1e-1));
        bound.Why.ShouldContain("no result beside");
    }

    [Fact]
    public void an_edge_censored_miss_counts_as_a_miss_and_a_claim_reaching_the_range_holds()
    {
        var kit = EdgeAt32();
        var reaching = Claim(kit, OptimalLrLaw.LawName, 0.012, 0.006, 0.025);
        var above = Claim(kit, OptimalLrLaw.LawName, 0.03, 0.02, 0.05);
        var frontierMiss = Claim(kit, TunedFrontierPowerLaw.LawName, 0.7, 0.65, 0.8);
        kit.Given(reaching, above, frontierMiss);

        var resolved = TestLaws.Resolve(kit.View, StudyTestKit.Now);
        kit.Given([.. resolved]);
        var byId = resolved.ToDictionary(r => r.PredictionId);
        byId[reaching.PredictionId].Inside.ShouldBeTrue();
        var miss = byId[above.PredictionId];
        (miss.Inside, miss.Observed, miss.ObservedAtLeast, miss.ObservedAtMost, miss.Residual, miss.ZScore)
            .ShouldBe((false, (double?)1e-3, (double?)null, (double?)1e-2, (double?)null, (double?)null));
        miss.Note!.ShouldContain("below 0.01");
        miss.Note!.ShouldContain("a miss");
        PredictionResolution.ObservedText(miss, v => v.ToString()).ShouldBe("below 0.01");
        byId[frontierMiss.PredictionId].Inside.ShouldBeFalse();

        // The last claim about width 32's best rate was the miss: calibration counts it, by claim and at reach.
        kit.View.Calibration.Single(c => c.Law == OptimalLrLaw.LawName).ShouldSatisfyAllConditions(
            c => c.Resolved.ShouldBe(1), c => c.Inside.ShouldBe(0));
        var atReach = CalibrationAtReach.Of(kit.View.Predictions, (_, _) => 16);
        atReach.Single(r => r.Law == OptimalLrLaw.LawName).ShouldSatisfyAllConditions(
            r => r.Reach.ShouldBe(1), r => r.WidthEvents.ShouldBe(1), r => r.WidthEventsHeld.ShouldBe(0));
        TestLaws.Resolve(kit.View, StudyTestKit.Now).ShouldBeEmpty();

        var explained = DeviationExplanation.Explain(above, miss, null, [16]);
        explained[0].ShouldContain("lies below 0.01");
        explained[0].ShouldContain("lies above that");
    }
}

/// <summary>Where a fit's claims can carry no interval, the study says so and why, instead of issuing nothing in silence.</summary>
public class NoIntervalTests
{
    [Fact]
    public void a_law_fitted_on_as_few_widths_as_it_has_parameters_says_why_its_claims_have_no_interval()
    {
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, [16, 32], "standard"),
            Optimizer = new OptimizerSpec("adam", [1e-3, 1e-2, 1e-1]),
            Seeds = [0, 1],
        };
        var kit = new StudyTestKit(spec).FinishAll(t =>
            0.5 + 0.1 * Math.Pow(Math.Log10(t.LearningRate / (t.Width == 16 ? 1.2e-2 : 0.8e-2)), 2) + 0.001 * t.Seed);
        var fit = LawEngine.ToEvent(kit.StudyId, TestLaws.OptimalLr(kit.View.Trials, new FitOptions(new BootstrapOptions(200)))!, Guid.NewGuid(),
            kit.View.LastSequence, StudyTestKit.Now);
        fit.Converged.ShouldBeTrue();
        fit.Predictions!.ShouldAllBe(p => p.Lower == null && p.Upper == null);
        TestLaws.Issue(kit.View, [fit], Guid.NewGuid, StudyTestKit.Now).ShouldBeEmpty();

        var why = PredictionIntervals.WhyNone(fit)!;
        why.ShouldContain("fitted on 2 width(s): no miss out of sample yet");
        why.ShouldContain("its 2 parameters");
        kit.Given(fit);
        kit.View.NoIntervals[fit.FitId].ShouldBe(why);
    }
}

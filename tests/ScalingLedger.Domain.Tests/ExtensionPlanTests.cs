using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>Extending a study where its laws point: the rate rule, its refusals, and the event folded and imported.</summary>
public class ExtensionPlanTests
{
    private static readonly DateTimeOffset At = StudyTestKit.Now;

    [Fact]
    public void the_grids_ratio_is_the_geometric_median_of_its_neighbouring_rates()
    {
        ExtensionPlan.Ratio([0.016, 0.001, 0.002, 0.004])!.Value.ShouldBe(2, 1e-12);
        ExtensionPlan.Ratio([0.001, 0.01, 0.1, 1.0])!.Value.ShouldBe(10, 1e-9);
        ExtensionPlan.Ratio([0.001]).ShouldBeNull();
    }

    [Theory]
    [InlineData(0.01, 0.004, 0.03, 2.0)]
    [InlineData(0.01, 0.01, 0.01, 3.0)]
    [InlineData(0.003, 0.0029, 0.0031, 10.0)]
    [InlineData(1e-4, 2e-5, 1.1e-4, 2.15)]
    [InlineData(0.05, 0.0125, 0.2, 2.0)]
    public void the_ladder_spans_the_interval_and_one_rung_beyond_each_bound_and_no_more(double eta, double lower, double upper, double rho)
    {
        var (rates, rungs, capped) = ExtensionPlan.Ladder(eta, lower, upper, rho);
        capped.ShouldBeFalse();
        rates.Count.ShouldBe(2 * rungs + 1);
        rates[rungs].ShouldBe(eta, eta * 1e-12);
        for (var k = 1; k < rates.Count; k++) (rates[k] / rates[k - 1]).ShouldBe(rho, rho * 1e-9);
        rates[0].ShouldBeLessThanOrEqualTo(lower / rho * (1 + 1e-9));
        rates[^1].ShouldBeGreaterThanOrEqualTo(upper * rho * (1 - 1e-9));
        // The least such ladder: one rung fewer on each side misses a bound's rung beyond.
        var shorter = eta * Math.Pow(rho, -(rungs - 1)) > lower / rho * (1 + 1e-9) || eta * Math.Pow(rho, rungs - 1) < upper * rho * (1 - 1e-9);
        shorter.ShouldBeTrue();
    }

    [Fact]
    public void a_ladder_wider_than_nine_rates_is_cut_to_nine_and_says_so()
    {
        var (rates, rungs, capped) = ExtensionPlan.Ladder(0.01, 1e-5, 10, 2);
        capped.ShouldBeTrue();
        rungs.ShouldBe(4);
        rates.Count.ShouldBe(ExtensionPlan.MaxLadder);
        rates[0].ShouldBe(0.01 / 16, 1e-12);
    }

    [Fact]
    public void the_naive_fixed_rate_is_the_best_rate_at_the_smallest_width()
    {
        var kit = MetzLike.Study(widths: [16, 64], rates: [1e-3, 1e-2, 1e-1], seeds: [0]);
        var best = kit.View.Trials.Where(t => t.Width == 16).MinBy(t => t.FinalEvalLoss)!.LearningRate;
        ExtensionPlan.NaiveRate(kit.View.Trials).ShouldBe(best);
        ExtensionPlan.NaiveRate([]).ShouldBeNull();
    }

    [Fact]
    public void a_study_is_extended_with_a_ladder_around_the_optimal_lr_laws_claim_and_the_naive_rate_and_predicted_before_it_runs()
    {
        var kit = MetzLike.Study(widths: [16, 32, 64, 128], seeds: [0, 1]);
        var state = new EvidenceState(kit.View, kit.View.Trials, [], [], new RecordedSequence(100));

        var (events, refusal) = ExtensionPlan.Decide(state, new ExtensionRequest([512]), Guid.NewGuid, "alice", At);

        refusal.ShouldBeNull();
        var extended = events.OfType<StudyExtended>().Single();
        var fits = events.OfType<LawFitted>().ToList();
        // Recorded in order: the fits claiming at the new width, the extension, then the predictions.
        events.ToList().IndexOf(extended).ShouldBe(fits.Count);
        events.Skip(fits.Count + 1).ShouldAllBe(e => e is PredictionIssued);
        var width = extended.Widths.Single();
        width.Width.ShouldBe(512);
        width.Law.ShouldBe(OptimalLrLaw.LawName);
        var lawFit = fits.Single(f => f.FitId == width.FitId);
        var claim = lawFit.Predictions!.Single(p => p.X == 512);
        (width.Predicted, width.Lower, width.Upper).ShouldBe((claim.Value, claim.Lower!.Value, claim.Upper!.Value));
        // The true best rate at 512 lies within the ladder, as the law's interval says it should.
        var ladder = width.Rates.Where(r => r.Why != ExtendedRate.Fixed).Select(r => r.LearningRate).ToList();
        ladder.Min().ShouldBeLessThan(MetzLike.BestRate(512));
        ladder.Max().ShouldBeGreaterThan(MetzLike.BestRate(512));
        width.Ratio.ShouldBe(ExtensionPlan.Ratio(MetzLike.Rates)!.Value, 1e-12);
        var naive = ExtensionPlan.NaiveRate(kit.View.Trials)!.Value;
        width.Rates.ShouldContain(r => r.LearningRate == naive && r.Why != ExtendedRate.Ladder);
        extended.Seeds.ShouldBe([0, 1]);
        extended.Trials.Count.ShouldBe(width.Rates.Count * 2);
        extended.Trials.Min(t => t.Order).ShouldBe(kit.View.Trials.Max(t => t.Order) + 1);
        extended.ExtendedBy.ShouldBe("alice");
        // Every law of widths claims at 512, from the evidence the study had: its predictions are there, planned, naming those fits.
        fits.ShouldAllBe(f => f.EvidenceSequence == 100);
        var predictions = events.OfType<PredictionIssued>().Where(p => p.Width == 512).ToList();
        predictions.ShouldContain(p => p.Law == OptimalLrLaw.LawName);
        predictions.ShouldContain(p => p.Law == "fixed-lr-loglinear" && p.LearningRate == naive);
        predictions.ShouldAllBe(p => p.Reason == "planned" && fits.Any(f => f.FitId == p.FitId));
        // Only at rates the new width trains (or at its best rate): a claim about a cell never trained would stay open for ever.
        var trained = extended.Trials.Select(t => t.LearningRate).ToHashSet();
        Func<PredictionIssued, double?> cellRate = p => p.AtLearningRate ?? LawKeys.RateOf(p.Key);
        predictions.Where(p => cellRate(p) is { } rate && !trained.Contains(rate)).ShouldBeEmpty();
        predictions.Count(p => LawKeys.RateOf(p.Key) is not null).ShouldBeGreaterThan(0);
    }

    [Fact]
    public void fixed_rates_given_replace_the_naive_one_and_a_fixed_rate_on_a_rung_is_one_rate_chosen_for_both()
    {
        var kit = MetzLike.Study(widths: [16, 32, 64, 128], seeds: [0]);
        var state = new EvidenceState(kit.View, kit.View.Trials, [], [], new RecordedSequence(100));
        var first = ExtensionPlan.Decide(state, new ExtensionRequest([256], FixedRates: []), Guid.NewGuid, "alice", At).Events
            .OfType<StudyExtended>().Single().Widths.Single();
        first.Rates.ShouldAllBe(r => r.Why == ExtendedRate.Ladder);
        var rung = first.Rates[1].LearningRate;

        var second = ExtensionPlan.Decide(state, new ExtensionRequest([256], [3, 4], [rung, 0.5]), Guid.NewGuid, "alice", At).Events
            .OfType<StudyExtended>().Single();
        var width = second.Widths.Single();
        width.Rates.Count.ShouldBe(first.Rates.Count + 1);
        width.Rates.Single(r => r.LearningRate == rung).Why.ShouldBe(ExtendedRate.Both);
        // A fixed rate a hair off the rung is trained at its own value: its fixed-rate law finds the cell by the exact rate.
        var near = rung * (1 + 1e-12);
        var third = ExtensionPlan.Decide(state, new ExtensionRequest([256], FixedRates: [near]), Guid.NewGuid, "alice", At).Events
            .OfType<StudyExtended>().Single().Widths.Single();
        third.Rates.Single(r => r.Why == ExtendedRate.Both).LearningRate.ShouldBe(near);
        width.Rates.Single(r => r.LearningRate == 0.5).Why.ShouldBe(ExtendedRate.Fixed);
        second.Seeds.ShouldBe([3, 4]);
    }

    [Fact]
    public void a_study_whose_laws_have_no_optimum_with_an_interval_is_refused_with_why_and_nothing_is_decided()
    {
        // Two rates bracket no optimum: neither law over optima is fitted.
        var kit = MetzLike.Study(widths: [16, 32, 64], rates: [1e-5, 1e-4], seeds: [0]);
        var state = new EvidenceState(kit.View, kit.View.Trials, [], [], new RecordedSequence(50));

        var (events, refusal) = ExtensionPlan.Decide(state, new ExtensionRequest([128]), Guid.NewGuid, "alice", At);

        events.ShouldBeEmpty();
        refusal.ShouldNotBeNull();
        refusal.ShouldContain("width 128");
        refusal.ShouldContain(OptimalLrLaw.LawName);
        refusal.ShouldContain(WidthLrSurfaceLaw.LawName);
    }

    [Fact]
    public void without_a_credible_optimal_lr_fit_the_width_lr_surfaces_valley_is_used_with_its_parameters_interval()
    {
        var surface = new LawFitted(Guid.NewGuid(), Guid.NewGuid(), WidthLrSurfaceLaw.LawName, LawKeys.All, "surface",
            new Dictionary<string, double> { ["E"] = 0.3, ["A"] = 2, ["alpha"] = 0.4, ["C"] = 0.05, ["c"] = Math.Log(0.1), ["d"] = -0.5 },
            true, null, 0.95, [new(16, 1, 0.01), new(32, 0.9, 0.01), new(64, 0.8, 0.01), new(128, 0.7, 0.01), new(16, 1.1, 0.1), new(32, 1, 0.1),
                new(64, 0.9, 0.1)],
            [], 10, "huber-lbfgs+bootstrap-seeds", LawEngine.FitterVersion, At,
            new Dictionary<string, ParameterInterval>
            {
                ["A"] = new(1.5, 2.5), ["alpha"] = new(0.3, 0.5), ["c"] = new(Math.Log(0.08), Math.Log(0.12)), ["d"] = new(-0.55, -0.45),
            },
            BootstrapResamples: 100, BootstrapConverged: 100, Predictions: []);
        CredibilityRule.Assess(surface).Credible.ShouldBeTrue(string.Join("; ", CredibilityRule.Assess(surface).Reasons));

        var optimum = ExtensionPlan.OptimumAt(256, [surface], out var why);

        optimum.ShouldNotBeNull(why);
        optimum.Law.ShouldBe(WidthLrSurfaceLaw.LawName);
        optimum.Predicted.ShouldBe(0.1 / 16, 1e-12);
        optimum.Lower.ShouldBe(Math.Exp(Math.Log(0.08) - 0.55 * Math.Log(256)), 1e-12);
        optimum.Upper.ShouldBe(Math.Exp(Math.Log(0.12) - 0.45 * Math.Log(256)), 1e-12);
    }

    [Fact]
    public void a_request_is_checked_field_by_field_against_the_study()
    {
        var spec = Specs.Demo();
        var errors = ExtensionPlan.Validate(new ExtensionRequest([32, 0, 4096, 4096], [-1], [double.NaN, 0.001], "a\u202Eb"), spec);
        errors.Keys.ShouldBe(["widths[0]", "widths[1]", "widths", "seeds[0]", "fixedRates[0]", "reason"], ignoreOrder: true);
        errors["widths[0]"][0].ShouldContain("already in the study");
        ExtensionPlan.Validate(new ExtensionRequest(Enumerable.Range(1, 9).Select(i => 4096 + i).ToList()), spec).Keys.ShouldContain("widths");
        ExtensionPlan.Validate(new ExtensionRequest([]), spec).Keys.ShouldBe(["widths"]);
        ExtensionPlan.Validate(null, spec).Keys.ShouldBe([""]);
        ExtensionPlan.Validate(new ExtensionRequest([4096], [0, 1], [0.001], "wider"), spec).ShouldBeEmpty();
    }

    [Fact]
    public void an_extension_folds_into_new_scheduled_trials_and_a_completed_study_runs_again()
    {
        var kit = new StudyTestKit();
        kit.FinishAll(_ => 0.5);
        kit.Given(new StudyCompleted(kit.StudyId, At));
        kit.View.Status.ShouldBe(StudyStatus.Completed);
        var extended = Extension(kit, Guid.NewGuid());

        kit.Given(extended);

        kit.View.Status.ShouldBe(StudyStatus.Running);
        kit.View.EndedAt.ShouldBeNull();
        kit.View.TrialCount.ShouldBe(kit.Defined.Trials.Count + 2);
        kit.View.Trials.Where(t => t.Width == 4096).ShouldAllBe(t => t.Status == TrialStatus.Scheduled);
        kit.View.Trials.Count(t => t.Width == 4096).ShouldBe(2);
        kit.View.Spec!.Model!.Widths!.ShouldContain(4096);
        var extension = kit.View.Extensions.Single();
        (extension.By, extension.Reason, extension.Trials).ShouldBe(("alice", "wider", 2));
    }

    [Fact]
    public void an_import_takes_an_extension_by_the_live_rules_and_refuses_one_that_replans_a_trial_or_names_no_fit()
    {
        var kit = new StudyTestKit();
        var fit = Guid.NewGuid();
        var t = kit.Trial(32, 0.001);
        List<object> events =
        [
            kit.Defined,
            new TrialStarted(kit.StudyId, t.TrialId, 1, "w", "h", 2, "0.107", At, DatasetSha256: new Dictionary<string, string> { ["train"] = new('a', 64) }),
            new TrialCompleted(kit.StudyId, t.TrialId, 0.4, 0.9, 1000, 2.0, At),
            new LawFitted(kit.StudyId, fit, OptimalLrLaw.LawName, LawKeys.All, "ln lr* = c + d ln h",
                new Dictionary<string, double> { ["c"] = -2, ["d"] = -0.5 },
                true, null, 0.9, [], [t.TrialId], 2, "ols+bootstrap-points", LawEngine.FitterVersion, At),
        ];
        List<ImportedEvent> Import(object extension) =>
            [.. events.Append(extension).Select((e, i) => new ImportedEvent(i + 1, e, "alice"))];

        ImportRules.Problems(kit.StudyId, Import(Extension(kit, fit))).ShouldBeEmpty();
        ImportRules.IdsOf([Extension(kit, fit)]).Trials.Count.ShouldBe(2);

        var replans = Extension(kit, fit);
        replans = replans with { Trials = [replans.Trials[0] with { TrialId = t.TrialId }, replans.Trials[1]] };
        ImportRules.Problems(kit.StudyId, Import(replans)).Single().ShouldContain("is the study's already");
        ImportRules.Problems(kit.StudyId, Import(Extension(kit, Guid.NewGuid()))).Single().ShouldContain("names fit");
        var known = Extension(kit, fit);
        known = known with { Widths = [known.Widths[0] with { Width = 32 }], Trials = [.. known.Trials.Select(p => p with { Width = 32 })] };
        ImportRules.Problems(kit.StudyId, Import(known)).Single().ShouldContain("already in the study");
    }

    private static StudyExtended Extension(StudyTestKit kit, Guid fitId) => new(kit.StudyId,
        [new ExtendedWidth(4096, OptimalLrLaw.LawName, fitId, 0.001, 0.0005, 0.002, 2, 2, false,
            [new ExtendedRate(0.001, ExtendedRate.Both)])],
        [0, 1], [new PlannedTrial(Guid.NewGuid(), 100, 4096, 0.001, 0), new PlannedTrial(Guid.NewGuid(), 101, 4096, 0.001, 1)], "alice", "wider", At);
}

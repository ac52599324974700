using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class PredictionDecisionTests
{
    // Widths 32, 64, 128, 512 at rates 0.001 and 0.01, seeds 0 and 1, target width 2048: a fit of three widths has missed
    // a width it had not seen (fitted on two), so its claims have calibrated intervals.
    private static double Loss(PlannedTrial t) => 3 - 0.2 * Math.Log(t.Width) + t.Seed * 0.01 + (t.LearningRate == 0.01 ? 0.05 : 0);

    private static StudyTestKit Kit() => new(Specs.Demo() with { Model = new ModelSpec("mlp", 3, [32, 64, 128, 512], "standard") });

    private static (StudyTestKit Kit, List<LawFitted> Fits) FitAfterThreeWidths()
    {
        var kit = Kit();
        foreach (var t in kit.Defined.Trials.Where(t => t.Width < 512)) kit.Given(kit.Completed(t, Loss(t)));
        var fits = TestLaws.NewFits(kit.View, new FitOptions(new BootstrapOptions(200)))
            .Select(f => LawEngine.ToEvent(kit.StudyId, f, Guid.NewGuid(), kit.View.LastSequence, StudyTestKit.Now)).ToList();
        kit.Given([.. fits]);
        return (kit, fits);
    }

    [Fact]
    public void new_fits_predict_the_planned_widths_not_yet_observed_and_the_targets()
    {
        var (kit, fits) = FitAfterThreeWidths();
        var issued = TestLaws.Issue(kit.View, fits, Guid.NewGuid, StudyTestKit.Now);
        var loglinear = issued.Where(p => p.Law == FixedLrLogLinearLaw.LawName && p.Key == "lr=0.001").ToList();
        loglinear.Select(p => (p.Width, p.Reason)).ShouldBe([(512.0, "planned"), (2048.0, "target")], ignoreOrder: true);
        issued.ShouldNotContain(p => p.Width == 32 || p.Width == 64 || p.Width == 128); // already observed
        foreach (var p in issued)
        {
            p.Lower.ShouldBeLessThanOrEqualTo(p.Predicted);
            p.Upper.ShouldBeGreaterThanOrEqualTo(p.Predicted);
            p.EvidenceSequence.ShouldBe(fits.Single(f => f.FitId == p.FitId).EvidenceSequence);
        }
        loglinear.Single(p => p.Width == 512).Predicted.ShouldBe(3 - 0.2 * Math.Log(512) + 0.005, 1e-9);
    }

    [Fact]
    public void a_prediction_is_resolved_once_its_point_is_observed_and_a_miss_is_a_deviation()
    {
        var (kit, fits) = FitAfterThreeWidths();
        kit.Given([.. TestLaws.Issue(kit.View, fits, Guid.NewGuid, StudyTestKit.Now)]);
        TestLaws.Resolve(kit.View, StudyTestKit.Now).ShouldBeEmpty();

        // Width 512 arrives: on the line at 0.001, far above it at 0.01 (the rate is too high for the wider model).
        foreach (var t in kit.Defined.Trials.Where(t => t.Width == 512))
            kit.Given(kit.Completed(t, t.LearningRate == 0.01 ? Loss(t) + 0.5 : Loss(t)));
        var resolved = TestLaws.Resolve(kit.View, StudyTestKit.Now);
        kit.Given([.. resolved]);

        var byPrediction = kit.View.Predictions.Where(p => p.Issued.Width == 512 && p.Issued.Law == FixedLrLogLinearLaw.LawName).ToList();
        byPrediction.Count.ShouldBe(2);
        var good = byPrediction.Single(p => p.Issued.Key == "lr=0.001");
        good.Resolution!.Inside.ShouldBeTrue();
        good.Resolution.Residual!.Value.ShouldBe(0, 1e-9);
        var bad = byPrediction.Single(p => p.Issued.Key == "lr=0.01");
        bad.IsDeviation.ShouldBeTrue();
        bad.Resolution!.ZScore!.Value.ShouldBeGreaterThan(1.96);
        bad.Resolution.Note!.ShouldContain("deviation");
        kit.View.Predictions.Where(p => p.Issued.Width == 2048).ShouldAllBe(p => p.Resolution == null);
        TestLaws.Resolve(kit.View, StudyTestKit.Now).ShouldBeEmpty(); // resolved once
        kit.View.Calibration.Single(c => c.Law == FixedLrLogLinearLaw.LawName).ShareInside.ShouldBe(0.5);
    }

    [Fact]
    public void a_line_through_two_points_without_seeds_to_resample_predicts_nothing()
    {
        var kit = new StudyTestKit(Specs.Demo() with { Seeds = [0] });
        foreach (var t in kit.Defined.Trials.Where(t => t.Width < 512)) kit.Given(kit.Completed(t, Loss(t)));
        var fits = TestLaws.NewFits(kit.View, new FitOptions(new BootstrapOptions(200)))
            .Select(f => LawEngine.ToEvent(kit.StudyId, f, Guid.NewGuid(), kit.View.LastSequence, StudyTestKit.Now)).ToList();
        fits.ShouldContain(f => f.Law == FixedLrLogLinearLaw.LawName && f.Converged);
        TestLaws.Issue(kit.View, fits, Guid.NewGuid, StudyTestKit.Now).ShouldBeEmpty();
    }

    [Fact]
    public void a_width_the_fit_already_used_is_never_predicted()
    {
        // Widths 32 to 128 done; at 512 only seed 0 of each rate finished: the fit uses that point, so no prediction
        // at 512 may be issued (it would later be "resolved" against its own evidence).
        var kit = Kit();
        foreach (var t in kit.Defined.Trials.Where(t => t.Width < 512 || t.Seed == 0)) kit.Given(kit.Completed(t, Loss(t)));
        var fits = TestLaws.NewFits(kit.View, new FitOptions(new BootstrapOptions(200)))
            .Select(f => LawEngine.ToEvent(kit.StudyId, f, Guid.NewGuid(), kit.View.LastSequence, StudyTestKit.Now)).ToList();
        fits.ShouldContain(f => f.Law == FixedLrLogLinearLaw.LawName && f.Points.Any(p => p.X == 512));
        var issued = TestLaws.Issue(kit.View, fits, Guid.NewGuid, StudyTestKit.Now);
        issued.Where(p => p.Law == FixedLrLogLinearLaw.LawName).ShouldNotContain(p => p.Width == 512);
        issued.ShouldContain(p => p.Width == 2048);
    }

    [Fact]
    public void a_point_where_every_trial_diverged_resolves_outside()
    {
        var (kit, fits) = FitAfterThreeWidths();
        kit.Given([.. TestLaws.Issue(kit.View, fits, Guid.NewGuid, StudyTestKit.Now)]);
        foreach (var t in kit.Defined.Trials.Where(t => t.Width == 512)) kit.Given(t.LearningRate == 0.01 ? kit.Diverged(t) : kit.Completed(t, Loss(t)));
        var resolved = TestLaws.Resolve(kit.View, StudyTestKit.Now);
        var diverged = resolved.Where(r => kit.View.Predictions.Single(p => p.Issued.PredictionId == r.PredictionId).Issued.Key == "lr=0.01").ToList();
        diverged.ShouldNotBeEmpty();
        diverged.ShouldAllBe(r => !r.Inside && r.Observed == null && r.Note!.Contains("diverged"));
    }

    [Fact]
    public void the_audit_verifies_a_fit_from_its_evidence_and_catches_a_tampered_one()
    {
        var kit = Kit();
        foreach (var t in kit.Defined.Trials.Where(t => t.Width < 512)) kit.Given(kit.Completed(t, Loss(t)));
        // Recorded as the Server records them: default options, the sequence the study had reached.
        var fits = TestLaws.NewFits(kit.View)
            .Select(f => LawEngine.ToEvent(kit.StudyId, f, Guid.NewGuid(), kit.View.LastSequence, StudyTestKit.Now)).ToList();
        fits.ShouldNotBeEmpty();
        foreach (var fit in fits)
        {
            var verification = FitAudit.Verify(kit.View, fit);
            verification.Differences.ShouldBeEmpty();
            verification.Verified.ShouldBeTrue();
        }
        var original = fits.First(f => f.Law == FixedLrLogLinearLaw.LawName);
        var tampered = original with { Parameters = new Dictionary<string, double>(original.Parameters) { ["b"] = original.Parameters["b"] + 1e-12 } };
        var check = FitAudit.Verify(kit.View, tampered);
        check.Verified.ShouldBeFalse();
        check.Differences.ShouldContain(d => d.StartsWith("parameter b"));

        // The same fit audited against later evidence is not the fit of that evidence.
        kit.Given(kit.Completed(kit.Defined.Trials.First(t => t.Width == 512), 0.1));
        FitAudit.Verify(kit.View, original).Verified.ShouldBeFalse();
    }
}

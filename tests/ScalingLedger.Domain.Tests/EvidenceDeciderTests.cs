using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>"Evidence arrived", decided by the pure reactor: incremental, by reference, idempotent, completing last.</summary>
public class EvidenceDeciderTests
{
    private static readonly FitOptions Quick = new(new BootstrapOptions(100));
    private static int ids;
    private static Guid NewId() => new(Interlocked.Increment(ref ids), 0, 0, new byte[8]);

    /// <summary>Widths 32..512, four rates, two seeds: a bowl around a rate that falls with width, bracketed at every width.</summary>
    private static StudyTestKit Study() => new(Specs.Demo() with
    {
        Model = new ModelSpec("mlp", 3, [32, 64, 128, 256, 512], "standard"),
        Optimizer = new OptimizerSpec("adam", [1e-3, 3e-3, 1e-2, 3e-2]),
        Seeds = [0, 1],
        TargetWidths = [2048],
    });

    private static double Loss(PlannedTrial t) =>
        2.0 - 0.1 * Math.Log(t.Width) + 0.05 * Math.Pow(Math.Log(t.LearningRate) - Math.Log(0.05 / Math.Sqrt(t.Width)), 2) + t.Seed * 1e-3;

    private static bool QuickLaw(string law) => law is FixedLrLogLinearLaw.LawName or OptimalLrLaw.LawName or OptimalLrQuadraticLaw.LawName;

    private static IReadOnlyList<object> Decide(StudyTestKit kit, Func<string, bool>? laws = null)
    {
        var events = EvidenceDecider.Decide(TestLaws.EvidenceOf(kit.View), NewId, StudyTestKit.Now, Quick,
            laws is null ? null : law => laws(law.Name));
        kit.Given([.. events]);
        return events;
    }

    private static void Finish(StudyTestKit kit, int width)
    {
        foreach (var t in kit.Defined.Trials.Where(t => t.Width == width)) kit.Given(kit.Completed(t, Loss(t)));
    }

    [Fact]
    public void deciding_again_on_the_same_evidence_decides_nothing()
    {
        var kit = Study();
        Finish(kit, 32);
        Finish(kit, 64);
        Decide(kit).OfType<LawFitted>().ShouldNotBeEmpty();
        Decide(kit).ShouldBeEmpty();
    }

    [Fact]
    public void a_width_row_refits_the_laws_its_results_enter_and_names_only_the_new_evidence()
    {
        var kit = Study();
        Finish(kit, 32);
        Finish(kit, 64);
        var first = Decide(kit).OfType<LawFitted>().ToList();
        first.ShouldAllBe(f => f.BasedOnFitId == null && f.EvidenceTrialIds.Count == f.EvidenceCount);

        // One more trial at one rate: only that rate's fixed-LR law has new evidence (its width row has not ended).
        var one = kit.Defined.Trials.First(t => t.Width == 128 && t.LearningRate == 3e-3);
        kit.Given(kit.Completed(one, Loss(one)));
        var refit = Decide(kit).OfType<LawFitted>().ToList();
        refit.Select(f => (f.Law, f.Key)).ShouldBe([(FixedLrLogLinearLaw.LawName, "lr=0.003")]);
        var fit = refit.Single();
        fit.BasedOnFitId.ShouldBe(first.Single(f => f.Law == fit.Law && f.Key == fit.Key).FitId);
        fit.EvidenceTrialIds.ShouldBeEmpty();
        fit.EvidenceAdded.ShouldBe([one.TrialId]);
        fit.EvidenceRemoved.ShouldBeEmpty();
        // The study's laws keep the whole evidence, reassembled from the reference.
        var whole = kit.View.LatestFits.Single(f => f.FitId == fit.FitId);
        whole.EvidenceTrialIds.Count.ShouldBe(fit.EvidenceCount!.Value);
        whole.EvidenceTrialIds.ShouldContain(one.TrialId);

        // The row ends: the optimal-LR law (and the other rates) are refitted.
        Finish(kit, 128);
        Decide(kit).OfType<LawFitted>().Select(f => f.Law).ShouldContain(OptimalLrLaw.LawName);
    }

    [Fact]
    public void the_quick_and_slow_laws_are_decided_apart_and_the_study_completes_only_when_both_are_current()
    {
        var kit = Study();
        foreach (var w in new[] { 32, 64, 128, 256, 512 }) Finish(kit, w);

        var quick = Decide(kit, QuickLaw);
        quick.OfType<LawFitted>().ShouldAllBe(f => QuickLaw(f.Law));
        quick.OfType<StudyCompleted>().ShouldBeEmpty(); // the power laws still wait for their fits
        var slow = Decide(kit, law => !QuickLaw(law));
        slow.OfType<LawFitted>().Select(f => f.Law).Distinct()
            .ShouldBe([FixedLrPowerLaw.LawName, TunedFrontierPowerLaw.LawName, WidthLrSurfaceLaw.LawName], ignoreOrder: true);
        slow.OfType<StudyCompleted>().ShouldHaveSingleItem();
        kit.View.Status.ShouldBe(StudyStatus.Completed);
    }

    [Fact]
    public void each_phase_resolves_only_its_own_laws_predictions()
    {
        var kit = Study();
        foreach (var w in new[] { 32, 64, 128, 256 }) Finish(kit, w);
        Decide(kit, QuickLaw);
        Decide(kit, law => !QuickLaw(law));
        kit.View.Predictions.Where(p => p.Issued.Width == 512).Select(p => p.Issued.Law).Distinct().Count().ShouldBeGreaterThan(1);

        Finish(kit, 512);
        var quick = Decide(kit, QuickLaw).OfType<PredictionResolved>().ToList();
        quick.ShouldNotBeEmpty();
        quick.ShouldAllBe(r => QuickLaw(kit.View.Predictions.Single(p => p.Id == r.PredictionId).Issued.Law));
        var slow = Decide(kit, law => !QuickLaw(law)).OfType<PredictionResolved>().ToList();
        slow.ShouldAllBe(r => !QuickLaw(kit.View.Predictions.Single(p => p.Id == r.PredictionId).Issued.Law));
        kit.View.Predictions.Where(p => p.Issued.Width == 512).ShouldAllBe(p => p.Resolution != null);
    }
}

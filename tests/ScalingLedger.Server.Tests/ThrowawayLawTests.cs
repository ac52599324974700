using ScalingLedger.Contracts;
using ScalingLedger.Domain.Charts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// A law is one file and one registration: a law written here, registered in one place (<see cref="Laws"/>), is fitted by
/// the reactor's decision, judged by credibility with its own bounds, compared across studies and drawn, with no other code
/// knowing its name.
/// </summary>
public class ThrowawayLawTests
{
    /// <summary><c>L(h) = m h^k</c> over each width's mean final loss: a power law without a floor, fitted in log-log.</summary>
    private sealed class FloorlessPowerLaw() : Law(new LawTerms("floorless-power", "L(h) = m h^k", ["m", "k"], RefitCost.Quick,
        Exponents: [new("k", "floorless slope", "a falling loss", -1, true, 0)]))
    {
        public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options)
        {
            var means = trials.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is > 0).GroupBy(t => t.Width).OrderBy(g => g.Key)
                .Select(g => new FitPoint(g.Key, g.Average(t => t.FinalEvalLoss!.Value))).ToList();
            if (means.Count < 3) yield break;
            var evidence = trials.Where(t => t.Status == TrialStatus.Completed).Select(t => t.TrialId).ToList();
            yield return new LawCandidate(Name, LawKeys.All, evidence, means, () =>
            {
                var line = LineFitter.FitLogLog(means.Select(p => p.X).ToList(), means.Select(p => p.Y).ToList())!;
                var (m, k) = (Math.Exp(line.Intercept), line.Slope);
                return Fitted(LawKeys.All, new Dictionary<string, double> { ["m"] = m, ["k"] = k }, null, line.RSquared, means, evidence, "ols") with
                {
                    Predictions = (options.PredictAt ?? []).Select(h => new FitPrediction(h, m * Math.Pow(h, k), null, null)).ToList(),
                };
            });
        }

        public override double? Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) => p["m"] * Math.Pow(point.Width, p["k"]);

        public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, LawPoint point) => null;
    }

    /// <summary>The one place the law is registered.</summary>
    private static readonly LawRegistry Laws = LawRegistry.Default.With(new FloorlessPowerLaw());

    private static StudyView Sweep(double slope, string owner)
    {
        var spec = new StudySpec("floorless", owner, "fashion-mnist", new ModelSpec("mlp", 2, [16, 32, 64, 128], "standard"),
            new OptimizerSpec("adam", [0.001]), [0], 100, 32, 10, [512]);
        var defined = new StudyDefined(Guid.NewGuid(), spec, GridPlanner.Plan(spec, Guid.NewGuid), owner, DateTimeOffset.UnixEpoch);
        var folder = new StudyFolder();
        long sequence = 0;
        folder.Apply(defined, new RecordedSequence(++sequence));
        foreach (var t in defined.Trials)
            folder.Apply(new TrialCompleted(defined.StudyId, t.TrialId, 2.0 * Math.Pow(t.Width, slope), 0.9, 1, 1, DateTimeOffset.UnixEpoch),
                new RecordedSequence(++sequence));
        var view = folder.View;
        var state = new EvidenceState(view, view.Trials, view.LatestFits, [], new RecordedSequence(view.LastSequence));
        var ids = 0;
        foreach (var e in EvidenceDecider.Decide(state, () => new Guid(++ids, 0, 0, new byte[8]), DateTimeOffset.UnixEpoch,
                     new FitOptions(new BootstrapOptions(50), Laws: Laws), law => law.Name == "floorless-power"))
            folder.Apply(e, new RecordedSequence(++sequence));
        return folder.View;
    }

    [Fact]
    public void a_law_registered_in_one_place_is_fitted_judged_compared_and_drawn()
    {
        var alice = Sweep(-0.2, "alice");
        var fit = alice.LatestFits.ShouldHaveSingleItem();
        fit.Law.ShouldBe("floorless-power");
        fit.Parameters["k"].ShouldBe(-0.2, 1e-9);

        // Judged by its own bounds: a slope of -0.2 is in [-1, 0]; one of +0.5 is not, and the reason names the bound.
        CredibilityRule.Assess(fit, Laws).Credible.ShouldBeTrue();
        var rising = fit with { Parameters = new Dictionary<string, double> { ["m"] = 1, ["k"] = 0.5 } };
        CredibilityRule.Assess(rising, Laws).Reasons.ShouldContain(r => r.StartsWith("floorless slope k = 0.5 is outside what a falling loss supports"));

        // Compared: its parameters, in its order, side by side.
        var comparison = StudyComparison.Compare([alice, Sweep(-0.3, "bob")], Laws);
        comparison.Laws.Where(l => l.Law == "floorless-power").Select(l => l.Parameter).ShouldBe(["m", "k"]);

        // Drawn: its curve at the best rate in panel (a), its fit in the audit chart.
        StudyCharts.LossVsWidth(alice, null, Laws).Series.Select(s => s.Name).ShouldContain("floorless-power");
        StudyCharts.Fit(fit, null, null, Laws).Series.Select(s => s.Name).ShouldContain("fitted law");
    }
}

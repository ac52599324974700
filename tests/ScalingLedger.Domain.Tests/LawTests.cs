using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class LawTests
{
    private static readonly double[] Widths = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

    [Fact]
    public void log_linear_recovers_metz_line_from_exact_points()
    {
        // Metz's naive law: loss(h) = 7.0 - 0.275 ln h. Exact data: recovery to rounding error.
        var y = Widths.Select(h => 7.0 - 0.275 * Math.Log(h)).ToArray();
        var fit = LineFitter.FitLogX(Widths, y)!;
        fit.Intercept.ShouldBe(7.0, 1e-9);
        fit.Slope.ShouldBe(-0.275, 1e-9);
        fit.RSquared.ShouldBe(1.0, 1e-12);
    }

    [Fact]
    public void log_linear_recovers_slope_through_bounded_noise()
    {
        // Deterministic noise of +-0.01 on 9 points spanning ln h in [2.8, 8.3]: the OLS slope moves by at most
        // 0.01 * sum|x - mean| / sum (x - mean)^2, about 0.004 here; 0.005 is the tolerance.
        var noise = new[] { 0.01, -0.01, 0.005, -0.005, 0.0, 0.01, -0.01, 0.005, -0.005 };
        var y = Widths.Select((h, i) => 7.0 - 0.275 * Math.Log(h) + noise[i]).ToArray();
        var fit = LineFitter.FitLogX(Widths, y)!;
        fit.Slope.ShouldBe(-0.275, 0.005);
        fit.RSquared.ShouldBeGreaterThan(0.99);
    }

    [Fact]
    public void log_linear_needs_two_distinct_widths() =>
        LineFitter.FitLogX([64, 64], [0.5, 0.4]).ShouldBeNull();

    [Fact]
    public void log_log_recovers_a_power_law()
    {
        var y = Widths.Select(h => Math.Exp(-3) * Math.Pow(h, -0.5)).ToArray();
        var fit = LineFitter.FitLogLog(Widths, y)!;
        fit.Intercept.ShouldBe(-3, 1e-9);
        fit.Slope.ShouldBe(-0.5, 1e-9);
    }

    [Fact]
    public void permuting_points_changes_nothing()
    {
        var y = Widths.Select((h, i) => 3 - 0.1 * Math.Log(h) + (i % 3) * 0.01).ToArray();
        var order = new[] { 4, 0, 8, 2, 6, 1, 7, 3, 5 };
        var a = LineFitter.FitLogX(Widths, y)!;
        var b = LineFitter.FitLogX(order.Select(i => Widths[i]).ToArray(), order.Select(i => y[i]).ToArray())!;
        b.Intercept.ShouldBe(a.Intercept, 1e-12);
        b.Slope.ShouldBe(a.Slope, 1e-12);
    }

    [Fact]
    public void falling_losses_give_a_negative_slope_rising_a_positive_one()
    {
        LineFitter.FitLogX(Widths, Widths.Select(h => 1 / Math.Log(h)).ToArray())!.Slope.ShouldBeLessThan(0);
        LineFitter.FitLogX(Widths, Widths.Select(h => Math.Sqrt(Math.Log(h))).ToArray())!.Slope.ShouldBeGreaterThan(0);
    }

    /// <summary>A study whose loss is a bowl in ln(lr) centred on lr*(h) = e^c h^d, plus a term falling with width.</summary>
    private static StudyTestKit BowlStudy(double c, double d, IReadOnlyList<int> widths, IReadOnlyList<double> rates, double? divergeAbove = null)
    {
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, widths, "standard"),
            Optimizer = new OptimizerSpec("adam", rates),
            Seeds = [0, 1],
        };
        var kit = new StudyTestKit(spec);
        return kit.FinishAll(t =>
        {
            if (divergeAbove is { } limit && t.LearningRate > limit) return null;
            var best = c + d * Math.Log(t.Width);
            var distance = Math.Log(t.LearningRate) - best;
            return 2.0 - 0.1 * Math.Log(t.Width) + 0.05 * distance * distance + t.Seed * 1e-4;
        });
    }

    [Fact]
    public void optimal_lr_law_recovers_its_exponent_within_grid_resolution()
    {
        // Grid of learning rates 0.1 decade apart: the grid argmin is within 0.05 decade (0.115 in ln) of lr*,
        // so over widths spanning ln h from 2.8 to 8.3 the fitted exponent d is within about 0.05 of the truth.
        var rates = Enumerable.Range(0, 41).Select(i => Math.Pow(10, -5 + i * 0.1)).ToList();
        var kit = BowlStudy(c: -3.0, d: -0.5, [16, 64, 256, 1024, 4096], rates);
        var fit = TestLaws.OptimalLr(kit.View.Trials)!;
        fit.Converged.ShouldBeTrue();
        fit.Parameters["d"].ShouldBe(-0.5, 0.05);
        fit.Parameters["c"].ShouldBe(-3.0, 0.35);
        fit.Points.Count.ShouldBe(5);
        fit.EvidenceTrialIds.Count.ShouldBe(kit.Defined.Trials.Count);
        fit.Message.ShouldBeNull();
    }

    [Fact]
    public void a_diverged_trial_counts_as_too_high_a_rate_never_as_the_best()
    {
        var rates = new[] { 1e-4, 1e-3, 1e-2, 1e-1 };
        // Without divergence the best rate at small widths would be 1e-1; diverging there moves it down.
        var kit = BowlStudy(c: 0.0, d: -0.8, [16, 64], rates, divergeAbove: 0.05);
        var optima = OptimalLearningRate.PerWidth(kit.View.Trials);
        optima.ShouldAllBe(o => o.LearningRate <= 0.01);
        optima.First().AtGridEdge.ShouldBeFalse();
    }

    [Fact]
    public void widths_with_unfinished_trials_give_no_optimum_yet()
    {
        var kit = new StudyTestKit(Specs.Demo() with { Optimizer = new OptimizerSpec("adam", [0.0001, 0.001, 0.01]) });
        foreach (var t in kit.Defined.Trials.Where(t => t.Width == 32)) kit.Given(kit.Completed(t, Math.Abs(Math.Log(t.LearningRate / 0.001))));
        kit.Given(kit.Completed(kit.Defined.Trials.First(t => t.Width == 128), 0.2));
        OptimalLearningRate.PerWidth(kit.View.Trials).Select(o => o.Width).ShouldBe([32]);
        TestLaws.OptimalLr(kit.View.Trials).ShouldBeNull();
    }

    [Fact]
    public void an_optimum_at_the_edge_of_the_grid_is_a_bound_and_the_study_is_told_which_rates_to_add()
    {
        // The study: widths 16 to 64 at rates 0.001 and 0.003, the best rate the largest at every width (the optimum
        // lies above the grid). Fitter 2.1.0 fitted the edges as if bracketed and got d = 0 with an interval of nothing.
        var kit = BowlStudy(c: Math.Log(1.0), d: 0, [16, 32, 64], [1e-3, 3e-3]);
        var analysis = OptimalLearningRate.Analyse(kit.View.Trials);
        analysis.Optima.ShouldBeEmpty();
        analysis.Edges.ShouldAllBe(e => e.Side == 1 && e.LearningRate == 3e-3);
        analysis.Edges.Select(e => e.Width).ShouldBe([16, 32, 64]);
        analysis.Advice!.ShouldBe("To bracket the optimum: at width(s) 16, 32, 64 the best rate is the grid's largest, 0.003: the optimum lies above it; " +
            "add rates above 0.003 (e.g. 0.009).");
        TestLaws.OptimalLr(kit.View.Trials).ShouldBeNull();
        TestLaws.Fits(WidthLrSurfaceLaw.LawName, kit.View.Trials).ShouldBeEmpty();

        var old = TestLaws.OptimalLr(kit.View.Trials, new FitOptions(new BootstrapOptions(200), Fitter: "2.1.0"))!;
        old.Parameters["d"].ShouldBe(0, 1e-12);
        old.Message!.ShouldContain(CredibilityRule.EdgeMessage);
        var judged = CredibilityRule.Assess(LawEngine.ToEvent(kit.StudyId, old, Guid.NewGuid(), 1, StudyTestKit.Now));
        judged.Credible.ShouldBeFalse();
        judged.Reasons.ShouldContain(r => r.StartsWith(
            "it rests on optima at the edge of the grid (The best rate is at the edge of the grid for width(s) 16, 32, 64)"));
    }

    [Fact]
    public void fixed_lr_fits_average_seeds_and_leave_diverged_trials_off_the_curve()
    {
        var kit = new StudyTestKit();
        kit.FinishAll(t => t.LearningRate == 0.01 && t.Width == 512 ? null : 3 - 0.2 * Math.Log(t.Width) + t.Seed * 0.02);
        var fits = TestLaws.FixedLrLogLinear(kit.View.Trials).ToList();
        fits.Select(f => f.Key).ShouldBe(["lr=0.001", "lr=0.01"]);
        var stable = fits[0];
        stable.Parameters["b"].ShouldBe(-0.2, 1e-9);
        stable.Parameters["a"].ShouldBe(3.01, 1e-9); // the mean of seeds 0 and 1
        stable.Points.Count.ShouldBe(3);
        var hot = fits[1];
        hot.Points.Select(p => p.X).ShouldBe([32, 128]);
        hot.Message!.ShouldContain("2 diverged"); // both seeds at width 512
        hot.EvidenceTrialIds.Count.ShouldBe(4);
    }

    [Fact]
    public void refitting_the_same_evidence_records_nothing_new()
    {
        var kit = new StudyTestKit();
        kit.FinishAll(t => 3 - 0.2 * Math.Log(t.Width) + t.LearningRate);
        var first = TestLaws.NewFits(kit.View);
        first.Count.ShouldBe(2); // two fixed-LR lines (two rates bracket no optimum: no law over optima)
        kit.Given([.. first.Select(f => LawEngine.ToEvent(kit.StudyId, f, Guid.NewGuid(), kit.View.LastSequence, StudyTestKit.Now))]);
        TestLaws.NewFits(kit.View).ShouldBeEmpty();
        kit.View.LatestFits.Count.ShouldBe(2);
        kit.View.FitCount.ShouldBe(2);
    }

    [Fact]
    public void fits_are_deterministic_given_their_evidence()
    {
        var kit = new StudyTestKit();
        kit.FinishAll(t => 3 - 0.2 * Math.Log(t.Width) + t.LearningRate);
        var a = TestLaws.FitAll(kit.View);
        var b = TestLaws.FitAll(kit.View);
        a.Select(f => (f.Law, f.Key, string.Join(",", f.Parameters.Select(p => $"{p.Key}={p.Value:R}"))))
            .ShouldBe(b.Select(f => (f.Law, f.Key, string.Join(",", f.Parameters.Select(p => $"{p.Key}={p.Value:R}")))));
    }
}

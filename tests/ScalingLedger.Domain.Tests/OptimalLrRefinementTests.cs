using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Tests;

public class OptimalLrRefinementTests
{
    private static readonly double[] Grid = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2];

    private static double[] Bowl(double best, double curvature = 0.05) =>
        Grid.Select(lr => 0.3 + curvature * Math.Pow(Math.Log(lr) - Math.Log(best), 2)).ToArray();

    [Fact]
    public void refines_an_exact_bowl_to_its_vertex_on_an_uneven_grid()
    {
        // The grid's ln spacing alternates 1.10 and 1.20: the parabola through three exact points of a quadratic is
        // the quadratic itself, so the vertex is exact to rounding.
        var optimum = OptimalLearningRate.Refine(Grid, Bowl(best: 1.4e-3))!;
        optimum.LearningRate.ShouldBe(1e-3);
        optimum.Refinement.ShouldBeNull();
        Math.Log(optimum.RefinedLearningRate).ShouldBe(Math.Log(1.4e-3), 1e-9);
    }

    [Fact]
    public void keeps_the_grid_rate_at_the_edge_of_the_grid()
    {
        var optimum = OptimalLearningRate.Refine(Grid, Bowl(best: 5e-2))!;
        optimum.LearningRate.ShouldBe(1e-2);
        optimum.AtGridEdge.ShouldBeTrue();
        optimum.RefinedLearningRate.ShouldBe(1e-2);
        optimum.Refinement!.ShouldContain("edge of the grid");
    }

    [Fact]
    public void keeps_the_grid_rate_when_a_neighbour_diverged()
    {
        var means = Bowl(best: 1.4e-3);
        means[3] = double.PositiveInfinity;
        var optimum = OptimalLearningRate.Refine(Grid, means)!;
        optimum.LearningRate.ShouldBe(1e-3);
        optimum.RefinedLearningRate.ShouldBe(1e-3);
        optimum.Refinement!.ShouldContain("diverged");
    }

    [Fact]
    public void keeps_the_grid_rate_when_a_neighbour_has_no_result()
    {
        var means = Bowl(best: 1.4e-3);
        means[1] = double.NaN;
        OptimalLearningRate.Refine(Grid, means)!.Refinement!.ShouldContain("no result");
    }

    [Fact]
    public void a_tie_goes_to_the_smaller_rate_and_refines_between_the_tied_rates()
    {
        var optimum = OptimalLearningRate.Refine(Grid, [0.5, 0.4, 0.4, 0.4, 0.5])!;
        optimum.LearningRate.ShouldBe(3e-4);
        optimum.Refinement.ShouldBeNull();
        // The parabola through (ln 1e-4, 0.5), (ln 3e-4, 0.4), (ln 1e-3, 0.4) bottoms out halfway between the tied rates.
        optimum.RefinedLearningRate.ShouldBe(Math.Sqrt(3e-4 * 1e-3), 1e-12);
    }

    [Fact]
    public void no_finite_mean_gives_no_optimum() =>
        OptimalLearningRate.Refine(Grid, [double.PositiveInfinity, double.NaN, double.PositiveInfinity, double.NaN, double.NaN]).ShouldBeNull();

    [Fact]
    public void per_width_reports_grid_and_refined_rates_side_by_side()
    {
        var kit = MetzLike.Study(widths: [64, 1024], noise: 0);
        var optima = OptimalLearningRate.PerWidth(kit.View.Trials);
        optima.Select(o => o.Width).ShouldBe([64, 1024]);
        foreach (var o in optima)
        {
            MetzLike.Rates.ShouldContain(o.LearningRate);
            o.Refinement.ShouldBeNull();
            Math.Log(o.RefinedLearningRate).ShouldBe(Math.Log(MetzLike.BestRate(o.Width)), 1e-9);
            // The grid is 0.84 apart in ln(lr): the grid rate is within half of that of the truth, the refined one exact.
            Math.Abs(Math.Log(o.LearningRate) - Math.Log(MetzLike.BestRate(o.Width))).ShouldBeLessThanOrEqualTo(0.42);
        }
    }

    [Fact]
    public void the_optimal_lr_law_recovers_its_exponent_below_grid_resolution()
    {
        // Noise-free bowls: refinement puts every point on lr*(h) exactly, so c and d come back to rounding, where the
        // grid argmin alone (0.84 apart in ln) can be 0.42 off at each width.
        var kit = MetzLike.Study(noise: 0);
        var fit = TestLaws.OptimalLr(kit.View.Trials, new FitOptions(new BootstrapOptions(100)))!;
        fit.Converged.ShouldBeTrue();
        fit.Parameters["d"].ShouldBe(MetzLike.D, 1e-9);
        fit.Parameters["c"].ShouldBe(MetzLike.C, 1e-8);
        fit.Method.ShouldStartWith("grid-argmin+quadratic-refinement+ols");
        var gridOnly = LineFitter.FitLogLog(
            OptimalLearningRate.PerWidth(kit.View.Trials).Select(o => (double)o.Width).ToList(),
            OptimalLearningRate.PerWidth(kit.View.Trials).Select(o => o.LearningRate).ToList())!;
        Math.Abs(gridOnly.Slope - MetzLike.D).ShouldBeGreaterThan(1e-3);
    }

    [Fact]
    public void the_optimal_lr_law_recovers_its_exponent_through_seed_noise()
    {
        // +-1% noise on losses near 0.3 is +-0.003, against a bowl that rises 0.035 one grid step away from its bottom:
        // the vertex moves by at most about 0.1 in ln(lr) at a width. Over ln h spanning 7.6, d moves by a few
        // hundredths at worst: d within 0.03, c (an intercept at h = 1, far from the data) within 0.25.
        var kit = MetzLike.Study(noise: 0.01);
        var fit = TestLaws.OptimalLr(kit.View.Trials, new FitOptions(new BootstrapOptions(200)))!;
        fit.Parameters["d"].ShouldBe(MetzLike.D, 0.03);
        fit.Parameters["c"].ShouldBe(MetzLike.C, 0.25);
        fit.Intervals!["d"].Lower.ShouldBeLessThan(fit.Intervals["d"].Upper);
    }

    [Fact]
    public void the_headline_slope_is_read_from_a_converged_optimal_lr_fit_alone_with_its_interval()
    {
        LawFitted Fit(string law, bool converged) => new(Guid.NewGuid(), Guid.NewGuid(), law, "all", "form",
            new Dictionary<string, double> { ["c"] = -2, ["d"] = -0.48 }, converged, null, 0.9, [], [], 10, "m", "v", DateTimeOffset.UnixEpoch,
            new Dictionary<string, ParameterInterval> { ["d"] = new(-0.6, -0.35) });
        var slope = OptimalLrLaw.Slope(Fit(OptimalLrLaw.LawName, converged: true))!;
        (slope.Value, slope.Lower, slope.Upper).ShouldBe((-0.48, (double?)-0.6, (double?)-0.35));
        OptimalLrLaw.Slope(Fit(OptimalLrLaw.LawName, converged: false)).ShouldBeNull("a fit that did not converge says nothing");
        OptimalLrLaw.Slope(Fit(WidthLrSurfaceLaw.LawName, converged: true)).ShouldBeNull("the headline is the optimal-LR law's");
        OptimalLrLaw.SlopeOf(Fit(WidthLrSurfaceLaw.LawName, converged: true).Parameters).ShouldBe(-0.48, "a curve's label names any law's d");
    }
}

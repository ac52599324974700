using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>The law of width and learning rate together: recovered from known parameters, and fitted to real sweeps.</summary>
public class WidthLrSurfaceTests
{
    private static readonly FitOptions Quick = new(new BootstrapOptions(200));

    // E + A h^-alpha + C (ln lr - (c + d ln h))^2 with the valley at lr*(h) = 0.1 h^-0.5.
    private const double E = 0.3, A = 1.2, Alpha = 0.6, C2 = 0.02, D = -0.5;
    private static readonly double Cc = Math.Log(0.1);
    private static readonly int[] Widths = [16, 32, 64, 128, 256, 512, 1024];

    /// <summary>Rates 0.2 / 2^j: the valley of every width is bracketed, a grid step (ln 2) apart.</summary>
    private static readonly double[] Rates = Enumerable.Range(0, 9).Select(j => 0.2 / Math.Pow(2, j)).ToArray();

    private static double Surface(double h, double lr) => E + A * Math.Pow(h, -Alpha) + C2 * Math.Pow(Math.Log(lr) - (Cc + D * Math.Log(h)), 2);

    /// <summary>The surface times (1 + noise u), u in [-1, 1] fixed by the cell and seed (two seeds: +u and -u when paired).</summary>
    private static StudyTestKit Study(double noise, bool paired)
    {
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, Widths, "standard"),
            Optimizer = new OptimizerSpec("adam", Rates),
            Seeds = [0, 1],
            TargetWidths = [4096],
        };
        return new StudyTestKit(spec).FinishAll(t =>
        {
            var u = paired
                ? (t.Seed == 0 ? 1 : -1)
                : 2 * new Random(t.Width * 7919 + (int)Math.Round(1000 * Math.Log(t.LearningRate)) * 31 + t.Seed).NextDouble() - 1;
            return Surface(t.Width, t.LearningRate) * (1 + noise * u);
        });
    }

    /// <summary>The surface's fit, predicting at the study's widths and its target (as the reactor does).</summary>
    private static LawFitted Surface(StudyTestKit kit, FitOptions? options = null) =>
        TestLaws.Fit(WidthLrSurfaceLaw.LawName, kit.View.Trials, (options ?? Quick) with { PredictAt = [.. Widths.Select(w => (double)w), 4096] })!;

    [Fact]
    public void recovers_the_parameters_it_was_generated_with()
    {
        // Seeds at +-0.1% around the surface: each cell's mean is the surface itself, so only the optimiser's stopping error
        // (relative gradient 1e-9) separates the fit from the truth; 1e-4 relative (1e-4 absolute for the exponents) bounds it.
        var fit = Surface(Study(0.001, paired: true));
        fit.Converged.ShouldBeTrue(fit.Message);
        fit.Parameters["E"].ShouldBe(E, 1e-4 * E);
        fit.Parameters["A"].ShouldBe(A, 1e-4 * A);
        fit.Parameters["alpha"].ShouldBe(Alpha, 1e-4);
        fit.Parameters["C"].ShouldBe(C2, 1e-4 * C2);
        fit.Parameters["c"].ShouldBe(Cc, 1e-4);
        fit.Parameters["d"].ShouldBe(D, 1e-4);
        fit.RSquared!.Value.ShouldBeGreaterThan(0.9999);
        // The window: each width's best grid rate and one rate either side.
        fit.Points.Count.ShouldBe(3 * Widths.Length);
        fit.Points.ShouldAllBe(p => p.Z != null);
        fit.Method.ShouldBe("huber-lbfgs+bootstrap-seeds+calibrated");
    }

    [Fact]
    public void through_one_percent_noise_its_intervals_hold_the_truth_and_its_claims_follow_from_its_parameters()
    {
        var fit = Surface(Study(0.01, paired: false), new FitOptions(new BootstrapOptions(400)));
        fit.Converged.ShouldBeTrue(fit.Message);
        foreach (var (name, truth) in new[] { ("E", E), ("A", A), ("alpha", Alpha), ("C", C2), ("c", Cc), ("d", D) })
        {
            var interval = fit.Intervals![name];
            truth.ShouldBeInRange(interval.Lower, interval.Upper, $"{name} = {fit.Parameters[name]} [{interval.Lower}, {interval.Upper}]");
        }
        var law = LawRegistry.Default.Find(WidthLrSurfaceLaw.LawName)!;
        // Claims at the floor of every width (study and target) and at the rates near each one's valley.
        fit.Predictions!.Where(p => p.LearningRate is null).Select(p => p.X).ShouldBe(Widths.Append(4096).Select(w => (double)w));
        fit.Predictions!.ShouldContain(p => p.X == 4096 && p.LearningRate != null);
        foreach (var p in fit.Predictions!)
        {
            p.Value.ShouldBe(law.Evaluate(fit.Parameters, new LawPoint(p.X, p.LearningRate))!.Value, 1e-12);
            p.Lower!.Value.ShouldBeLessThanOrEqualTo(p.Upper!.Value);
        }
        // At 4096 the valley sits at 0.1/64 = 0.0016: the grid's rates within the window's reach of it are claimed, no others.
        fit.Predictions!.Where(p => p.X == 4096 && p.LearningRate != null).Select(p => p.LearningRate!.Value)
            .ShouldAllBe(lr => Math.Abs(Math.Log(lr) - Math.Log(0.1 / 64)) < 1.1 * Math.Log(2));
        law.OptimalRateAt(fit.Parameters, 4096)!.Value.ShouldBe(0.1 / 64, 0.1 * 0.1 / 64);
    }

    [Fact]
    public void a_fixed_rate_costs_more_at_wider_widths_as_the_valley_moves_away()
    {
        var fit = Surface(Study(0.001, paired: true));
        var law = LawRegistry.Default.Find(WidthLrSurfaceLaw.LawName)!;
        var atWidth16Best = 0.1 / 4;
        double Price(double h) => law.Evaluate(fit.Parameters, new LawPoint(h, atWidth16Best))!.Value - law.Evaluate(fit.Parameters, new LawPoint(h))!.Value;
        Price(16).ShouldBe(0, 1e-4);
        Price(1024).ShouldBeGreaterThan(Price(256));
        Price(256).ShouldBeGreaterThan(Price(64));
    }

    [Fact]
    public void widths_whose_optimum_is_not_bracketed_are_not_its_evidence()
    {
        // Rates that stop short of the narrow widths' valley: their best rate is the grid's largest, a bound, not a point.
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, Widths, "standard"),
            Optimizer = new OptimizerSpec("adam", Rates[3..]),
            Seeds = [0, 1],
            TargetWidths = [4096],
        };
        var kit = new StudyTestKit(spec).FinishAll(t => Surface(t.Width, t.LearningRate));
        var fit = Surface(kit);
        fit.Points.Select(p => (int)p.X).Distinct().ShouldNotContain(16);
        fit.Message!.ShouldContain("the best rate is the grid's largest");
    }

    [Fact]
    public void on_a_real_sweep_it_converges_is_credible_agrees_with_the_frontier_and_the_optimal_lr_law_and_its_claims_resolve()
    {
        // eval-standard-a: widths 32 to 512, six rates 1e-4 to 3e-2, two seeds, 1,500 steps of Adam on Fashion-MNIST.
        var view = RealSweeps.Replay("eval-standard-a", Quick);
        var surface = view.LatestFits.Single(f => f.Law == WidthLrSurfaceLaw.LawName);
        surface.Converged.ShouldBeTrue(surface.Message);
        view.CredibilityOf(surface.FitId).Credible.ShouldBeTrue(string.Join("; ", view.CredibilityOf(surface.FitId).Reasons));
        surface.EvidenceCount.ShouldNotBeNull();

        // The same valley and the same floor as the laws fitted to each of them alone: the intervals overlap.
        var optimal = view.LatestFits.Single(f => f.Law == OptimalLrLaw.LawName);
        var frontier = view.LatestFits.Single(f => f.Law == TunedFrontierPowerLaw.LawName);
        Overlap(surface.Intervals!["d"], optimal.Intervals!["d"]).ShouldBeTrue();
        Overlap(surface.Intervals!["c"], optimal.Intervals!["c"]).ShouldBeTrue();
        Overlap(surface.Intervals!["E"], frontier.Intervals!["E"]).ShouldBeTrue();
        Overlap(surface.Intervals!["alpha"], frontier.Intervals!["alpha"]).ShouldBeTrue();

        // Its claims at widths still running were resolved when they ended: at the floor and at rates.
        var claims = view.Predictions.Where(p => p.Issued.Law == WidthLrSurfaceLaw.LawName).ToList();
        claims.ShouldContain(p => p.Issued.Reason == "target");
        var resolved = claims.Where(p => p.Resolution is not null).ToList();
        resolved.ShouldContain(p => p.Issued.AtLearningRate == null);
        resolved.ShouldContain(p => p.Issued.AtLearningRate != null);
        resolved.ShouldAllBe(p => p.Resolution!.ObservedTrialIds.Count > 0);
        view.Calibration.Select(c => c.Law).ShouldContain(WidthLrSurfaceLaw.LawName);
    }

    private static bool Overlap(ParameterInterval a, ParameterInterval b) => a.Lower <= b.Upper && b.Lower <= a.Upper;
}

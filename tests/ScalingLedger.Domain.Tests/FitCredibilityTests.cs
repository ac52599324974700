using System.Globalization;
using CsCheck;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class FitCredibilityTests
{
    private static readonly double[] Widths = [16, 32, 64, 128, 256, 512];

    /// <summary>
    /// A good fixed-LR power fit: the Metz-like frontier at six widths, R² 0.998, tight intervals, every resample
    /// converged, and a prediction at 2048 on the law with a 2% interval. Each test changes one thing.
    /// </summary>
    internal static LawFitted Good(string law = FixedLrPowerLaw.LawName) => new(
        Guid.NewGuid(), Guid.NewGuid(), law, law == FixedLrPowerLaw.LawName ? "lr=0.001" : "all", PowerLawFitter.Form,
        new Dictionary<string, double> { ["E"] = MetzLike.E, ["A"] = MetzLike.A, ["alpha"] = MetzLike.Alpha, ["learningRate"] = 0.001 },
        true, null, 0.998, Widths.Select(w => new FitPoint(w, MetzLike.Frontier(w))).ToList(), [Guid.NewGuid()], 10,
        "huber-lbfgs+bootstrap-seeds", LawEngine.FitterVersion, StudyTestKit.Now,
        new Dictionary<string, ParameterInterval>
        {
            ["E"] = new(0.24, 0.26), ["A"] = new(1.9, 2.1), ["alpha"] = new(0.33, 0.37),
        },
        BootstrapSeed: BootstrapOptions.DefaultSeed, BootstrapResamples: 1000, BootstrapConverged: 1000, StartsConverged: 15, StartsTried: 15,
        Predictions: [new FitPrediction(2048, MetzLike.Frontier(2048), 0.98 * MetzLike.Frontier(2048), 1.02 * MetzLike.Frontier(2048))]);

    /// <summary>A good optimal-LR fit: lr* = 0.1 h^-0.5 at six widths.</summary>
    private static LawFitted GoodOptimalLr() => Good(OptimalLrLaw.LawName) with
    {
        Form = new OptimalLrLaw().Form,
        Parameters = new Dictionary<string, double> { ["c"] = Math.Log(0.1), ["d"] = -0.5 },
        RSquared = 0.99,
        Points = Widths.Select(w => new FitPoint(w, 0.1 / Math.Sqrt(w))).ToList(),
        Intervals = new Dictionary<string, ParameterInterval> { ["c"] = new(-2.4, -2.2), ["d"] = new(-0.52, -0.48) },
        Predictions = [new FitPrediction(2048, 0.1 / Math.Sqrt(2048), 0.0021, 0.0023)],
    };

    [Fact]
    public void a_good_power_fit_is_credible()
    {
        var credibility = CredibilityRule.Assess(Good());
        credibility.Credible.ShouldBeTrue();
        credibility.Reasons.ShouldBeEmpty();
        CredibilityRule.Assess(GoodOptimalLr()).Credible.ShouldBeTrue();
    }

    /// <summary>Recorded by a real study: a fixed-LR power law through losses near chance (ln 10 = 2.30) at widths 2 to 13.</summary>
    internal static LawFitted Motivating()
    {
        var losses = new[] { 2.39, 2.33, 2.31, 2.36, 2.30, 2.28, 2.32, 2.29, 2.31, 2.27, 2.30, 2.29 };
        return Good() with
        {
            Key = "lr=0.18738174",
            Parameters = new Dictionary<string, double> { ["E"] = 2.3, ["A"] = 7.1e44, ["alpha"] = 31, ["learningRate"] = 0.18738174 },
            RSquared = 0.17,
            Points = losses.Select((l, i) => new FitPoint(i + 2, l)).ToList(),
            Intervals = null,
            Predictions = [new FitPrediction(2048, 6.06e55, 3.58e55, 7.35e55)],
        };
    }

    internal const string MotivatingReasons =
        "exponent alpha = 31 is far outside what width scaling supports (0 to 3); " +
        "R² = 0.17: the law explains less than half the variance of the loss over its 12 points (credible fits have at least 0.5); " +
        "it predicts loss 6.06e55 [3.58e55, 7.35e55] at width 2048, more than 10 times the largest observed (2.39)";

    [Fact]
    public void the_motivating_fit_is_not_credible_for_its_exponent_its_r_squared_and_its_prediction()
    {
        var fit = Motivating();
        var credibility = CredibilityRule.Assess(fit);
        credibility.Credible.ShouldBeFalse();
        credibility.Reasons.ShouldBe(
        [
            "exponent alpha = 31 is far outside what width scaling supports (0 to 3)",
            "R² = 0.17: the law explains less than half the variance of the loss over its 12 points (credible fits have at least 0.5)",
            "it predicts loss 6.06e55 [3.58e55, 7.35e55] at width 2048, more than 10 times the largest observed (2.39)",
        ]);
        string.Join("; ", credibility.Reasons).ShouldBe(MotivatingReasons);
    }

    public static TheoryData<string, string> OneThingWrong => new()
    {
        { "not converged", "the fit did not converge (Did not converge from any start.)" },
        { "alpha 3.5", "exponent alpha = 3.5 is outside what width scaling supports (0 to 3)" },
        { "alpha 0", "exponent alpha = 0 is outside what width scaling supports (0 to 3)" },
        { "alpha -0.2", "exponent alpha = -0.2 is outside what width scaling supports (0 to 3)" },
        { "alpha NaN", "parameter alpha = NaN is not a finite number" },
        { "A interval wide", "the 95% interval of A, [0.05, 8], spans more than two orders of magnitude (upper/lower = 160): the data do not determine it" },
        { "A interval at zero", "the 95% interval of A, [0, 3], reaches zero or below though A must be positive: the data do not determine it" },
        { "R² 0.3", "R² = 0.3: the law explains less than half the variance of the loss over its 6 points (credible fits have at least 0.5)" },
        { "prediction NaN", "the prediction at width 2048 is not a finite number" },
        { "prediction infinite upper", "the prediction at width 2048 is not a finite number" },
        { "predictions NaN at two widths", "the predictions at widths 2048, 4096 are not finite numbers" },
        { "prediction negative", "it predicts a negative loss: -0.1 [-0.2, 0] at width 4096" },
        { "prediction absurd", "it predicts loss 12 [11, 13] at width 2048, more than 10 times the largest observed (1.01)" },
        { "bootstrap 499 of 1000",
            "only 499 of 1000 bootstrap resamples converged (fewer than half): the intervals rest on the resamples that happened to fit" },
        { "optimal-lr d -2.5", "optimal-LR slope d = -2.5 is outside what width scaling of the best learning rate supports (-2 to 1)" },
        { "optimal-lr d 5", "optimal-LR slope d = 5 is far outside what width scaling of the best learning rate supports (-2 to 1)" },
        { "optimal-lr prediction absurd", "it predicts optimal learning rate 0.3 at width 8, more than 10 times the largest observed (0.025)" },
        { "chinchilla beta 4", "exponent beta = 4 is outside what data scaling supports (0 to 3)" },
        { "chinchilla B interval wide",
            "the 95% interval of B, [10, 2e4], spans more than two orders of magnitude (upper/lower = 2e3): the data do not determine it" },
        { "loglinear R² 0.2", "R² = 0.2: the law explains less than half the variance of the loss over its 6 points (credible fits have at least 0.5)" },
    };

    [Theory, MemberData(nameof(OneThingWrong))]
    public void each_check_fires_alone_on_an_otherwise_good_fit(string wrong, string reason)
    {
        var fit = Spoil(wrong);
        var credibility = CredibilityRule.Assess(fit);
        credibility.Credible.ShouldBeFalse();
        credibility.Reasons.ShouldBe([reason]);
    }

    private static LawFitted Spoil(string wrong)
    {
        var good = Good();
        LawFitted With(string name, double value) =>
            good with { Parameters = new Dictionary<string, double>(good.Parameters) { [name] = value } };
        LawFitted Interval(LawFitted fit, string name, double lower, double upper) =>
            fit with { Intervals = new Dictionary<string, ParameterInterval>(fit.Intervals!) { [name] = new(lower, upper) } };
        LawFitted Predicting(double x, double value, double? lower, double? upper) => good with { Predictions = [new FitPrediction(x, value, lower, upper)] };
        var optimal = GoodOptimalLr();
        var chinchilla = ChinchillaLike();
        return wrong switch
        {
            "not converged" => good with
            {
                Converged = false,
                Message = "Did not converge from any start.",
                Parameters = new Dictionary<string, double>(),
                Intervals = null,
                Predictions = null
            },
            "alpha 3.5" => With("alpha", 3.5),
            "alpha 0" => With("alpha", 0),
            "alpha -0.2" => With("alpha", -0.2),
            "alpha NaN" => With("alpha", double.NaN),
            "A interval wide" => Interval(good, "A", 0.05, 8),
            "A interval at zero" => Interval(good, "A", 0, 3),
            "R² 0.3" => good with { RSquared = 0.3 },
            "prediction NaN" => Predicting(2048, double.NaN, null, null),
            "prediction infinite upper" => Predicting(2048, 0.4, 0.3, double.PositiveInfinity),
            "predictions NaN at two widths" => good with
            {
                Predictions = [new FitPrediction(2048, double.NaN, null, null), new FitPrediction(4096, 0.3, double.NegativeInfinity, 0.4)]
            },
            "prediction negative" => Predicting(4096, -0.1, -0.2, 0),
            "prediction absurd" => Predicting(2048, 12, 11, 13),
            "bootstrap 499 of 1000" => good with { BootstrapConverged = 499 },
            "optimal-lr d -2.5" => optimal with { Parameters = new Dictionary<string, double>(optimal.Parameters) { ["d"] = -2.5 } },
            "optimal-lr d 5" => optimal with { Parameters = new Dictionary<string, double>(optimal.Parameters) { ["d"] = 5 } },
            "optimal-lr prediction absurd" => optimal with { Predictions = [new FitPrediction(8, 0.3, null, null)] },
            "chinchilla beta 4" => chinchilla with { Parameters = new Dictionary<string, double>(chinchilla.Parameters) { ["beta"] = 4 } },
            "chinchilla B interval wide" => Interval(chinchilla, "B", 10, 2e4),
            "loglinear R² 0.2" => LogLinear() with { RSquared = 0.2 },
            _ => throw new ArgumentException(wrong),
        };
    }

    /// <summary>A Chinchilla fit like the replication's: Hoffmann et al.'s law, intervals about the published SEs.</summary>
    private static LawFitted ChinchillaLike() => Good(ChinchillaStudyLaw.LawName) with
    {
        Form = ChinchillaFitter.Form,
        Parameters = new Dictionary<string, double> { ["E"] = 1.82, ["A"] = 482, ["B"] = 2085, ["alpha"] = 0.348, ["beta"] = 0.366 },
        RSquared = 0.95,
        Points = [new FitPoint(1e8, 3.2, 1e10), new FitPoint(1e9, 2.6, 1e11), new FitPoint(1e10, 2.2, 1e12)],
        Intervals = new Dictionary<string, ParameterInterval>
        {
            ["E"] = new(1.76, 1.88), ["A"] = new(300, 800), ["B"] = new(900, 6000), ["alpha"] = new(0.31, 0.39), ["beta"] = new(0.33, 0.41),
        },
        Predictions = null,
    };

    /// <summary>A log-linear fit: its slope b is not an exponent (no range), and nothing of it must be positive.</summary>
    private static LawFitted LogLinear() => Good(FixedLrLogLinearLaw.LawName) with
    {
        Key = "lr=0.001",
        Form = new FixedLrLogLinearLaw().Form,
        Parameters = new Dictionary<string, double> { ["a"] = 1.2, ["b"] = -0.1, ["learningRate"] = 0.001 },
        RSquared = 0.9,
        Intervals = new Dictionary<string, ParameterInterval> { ["a"] = new(-0.5, 2), ["b"] = new(-0.2, 0.05) },
        Predictions = [new FitPrediction(2048, 1.2 - 0.1 * Math.Log(2048), 0.4, 0.5)],
    };

    [Fact]
    public void the_optimal_lr_law_is_not_held_to_a_loss_laws_r_squared_nor_the_log_linear_slope_to_an_exponents_range()
    {
        // Under muP the best rate does not move with width: the line is flat and its R² near 0 by design.
        CredibilityRule.Assess(GoodOptimalLr() with
        {
            Parameters = new Dictionary<string, double> { ["c"] = Math.Log(0.01), ["d"] = 0.01 },
            RSquared = 0.02,
        }).Reasons.ShouldBeEmpty();
        // A rising log-linear line (b = 5) is odd but not an exponent out of range, and a and b may be negative.
        CredibilityRule.Assess(LogLinear() with
        {
            Parameters = new Dictionary<string, double> { ["a"] = -3, ["b"] = 5, ["learningRate"] = 0.001 },
            Predictions = [new FitPrediction(64, -3 + 5 * Math.Log(64), 17, 18)],
            Points = [new FitPoint(16, 10.8), new FitPoint(32, 14.3)],
        }).Reasons.ShouldBeEmpty();
        // The floor E's interval reaching 0 (the floor is not resolved) is not held against the law.
        CredibilityRule.Assess(Good() with
        {
            Intervals = new Dictionary<string, ParameterInterval> { ["E"] = new(1e-16, 0.4), ["A"] = new(1.9, 2.1), ["alpha"] = new(0.2, 0.5) },
        }).Reasons.ShouldBeEmpty();
        // Fits recorded before intervals, bootstrap counts and predictions existed are judged on what they have.
        CredibilityRule.Assess(Good() with { Intervals = null, BootstrapResamples = null, BootstrapConverged = null, Predictions = null })
            .Credible.ShouldBeTrue();
    }

    [Fact]
    public void the_bounds_of_every_range_are_credible()
    {
        CredibilityRule.Assess(Good() with { Parameters = new Dictionary<string, double>(Good().Parameters) { ["alpha"] = 3 } }).Credible.ShouldBeTrue();
        CredibilityRule.Assess(GoodOptimalLr() with { Parameters = new Dictionary<string, double> { ["c"] = -2, ["d"] = -2 } }).Credible.ShouldBeTrue();
        CredibilityRule.Assess(GoodOptimalLr() with { Parameters = new Dictionary<string, double> { ["c"] = -2, ["d"] = 1 } }).Credible.ShouldBeTrue();
        CredibilityRule.Assess(Good() with { RSquared = 0.5 }).Credible.ShouldBeTrue();
        CredibilityRule.Assess(Good() with { BootstrapConverged = 500 }).Credible.ShouldBeTrue();
        CredibilityRule.Assess(Good() with { Intervals = new Dictionary<string, ParameterInterval> { ["A"] = new(0.05, 5) } }).Credible.ShouldBeTrue();
        var largest = Good().Points.Max(p => p.Y);
        CredibilityRule.Assess(Good() with { Predictions = [new FitPrediction(2048, 10 * largest, null, null)] }).Credible.ShouldBeTrue();
        CredibilityRule.Assess(Good() with { Predictions = [new FitPrediction(2048, 0, null, null)] }).Credible.ShouldBeTrue();
    }

    [Fact]
    public void a_power_fit_is_credible_exactly_when_its_exponent_is_in_range() =>
        Gen.Double[-5, 40].Sample(alpha =>
        {
            var fit = Good() with { Parameters = new Dictionary<string, double>(Good().Parameters) { ["alpha"] = alpha } };
            var credibility = CredibilityRule.Assess(fit);
            credibility.Credible.ShouldBe(alpha is > 0 and <= 3);
            if (!credibility.Credible) credibility.Reasons.Single().ShouldStartWith($"exponent alpha = {Numbers.Format(alpha)} is ");
        });

    [Fact]
    public void a_coefficients_interval_is_credible_exactly_when_it_spans_at_most_a_hundredfold() =>
        Gen.Select(Gen.Double[1e-6, 1e6], Gen.Double[1, 1e4]).Sample((lower, ratio) =>
        {
            var fit = Good() with { Intervals = new Dictionary<string, ParameterInterval> { ["A"] = new(lower, lower * ratio) } };
            CredibilityRule.Assess(fit).Credible.ShouldBe(lower * ratio / lower <= 100);
        });

    [Fact]
    public void every_fit_of_a_metz_like_sweep_predicting_four_times_its_widest_is_credible()
    {
        var kit = MetzLike.Study(widths: MetzLike.Widths[..6], targetWidths: [2048]);
        var fits = TestLaws.FitAll(kit.View, new FitOptions(new BootstrapOptions(200)));
        // Per rate: log-linear, power (one rate diverges too early); frontier, optimal-LR, surface, the optimal-LR quadratic.
        fits.Count.ShouldBe(12 + 11 + 1 + 1 + 1 + 1);
        foreach (var fit in fits)
            CredibilityRule.Assess(LawEngine.ToEvent(kit.StudyId, fit, Guid.NewGuid(), 1, StudyTestKit.Now)).Reasons.ShouldBeEmpty($"{fit.Law} {fit.Key}");
    }

    [Fact]
    public void over_a_wide_metz_like_sweep_only_log_linear_lines_that_cross_zero_are_set_aside()
    {
        // Widths 16 to 32768, target 65536: every power, frontier and optimal-LR fit is credible; a straight line in ln h
        // extrapolated to 65536 falls below zero at three rates, and only that sets those fits aside.
        var kit = MetzLike.Study();
        var assessed = TestLaws.FitAll(kit.View, new FitOptions(new BootstrapOptions(200)))
            .Select(f => (Fit: f, Credibility: CredibilityRule.Assess(LawEngine.ToEvent(kit.StudyId, f, Guid.NewGuid(), 1, StudyTestKit.Now))))
            .ToList();
        assessed.Where(a => a.Fit.Law != FixedLrLogLinearLaw.LawName).ShouldAllBe(a => a.Credibility.Credible);
        var setAside = assessed.Where(a => !a.Credibility.Credible).ToList();
        setAside.Select(a => a.Fit.Parameters["learningRate"]).ShouldBe([MetzLike.Rates[4], MetzLike.Rates[5], MetzLike.Rates[11]]);
        setAside.ShouldAllBe(a => a.Fit.Law == FixedLrLogLinearLaw.LawName && a.Credibility.Reasons.Count == 1
            && a.Credibility.Reasons[0].StartsWith("it predicts a negative loss: ") && a.Credibility.Reasons[0].EndsWith(" at width 65536"));
    }

    [Fact]
    public void the_chinchilla_import_fit_is_credible()
    {
        var (n, d, l) = ChinchillaTests.EpochData();
        var trials = Enumerable.Range(0, n.Length).Select(i => new TrialView
        {
            TrialId = Guid.NewGuid(), Order = i, Status = TrialStatus.Completed, Params = n[i], Tokens = d[i], FinalEvalLoss = l[i],
        }).ToList();
        var fit = TestLaws.ChinchillaOf(trials, new FitOptions(new BootstrapOptions(100)))!;
        fit.Converged.ShouldBeTrue();
        CredibilityRule.Assess(LawEngine.ToEvent(Guid.NewGuid(), fit, Guid.NewGuid(), 1, StudyTestKit.Now)).Reasons.ShouldBeEmpty();
    }

    [Fact]
    public void a_real_sweep_sets_aside_exactly_its_fits_through_noise()
    {
        // tiny-432 (Data/README.md): 20 steps leave rates 0.08 and up near chance loss. Its fits at 0.081 and 0.187 go
        // through noise; every other fit, the frontier and the optimal-LR law (R² 0.31: its slope's interval spans 0) are credible.
        var kit = TinyStudy();
        var assessed = TestLaws.FitAll(kit.View, new FitOptions(new BootstrapOptions(200)))
            .Select(f => (f.Law, f.Key, Credibility: CredibilityRule.Assess(LawEngine.ToEvent(kit.StudyId, f, Guid.NewGuid(), 1, StudyTestKit.Now))))
            .Where(a => !a.Credibility.Credible)
            .ToList();
        assessed.Select(a => $"{a.Law} {a.Key}").ShouldBe(
            ["fixed-lr-loglinear lr=0.18738174", "fixed-lr-power lr=0.08111308", "fixed-lr-power lr=0.18738174"]);
        assessed[0].Credibility.Reasons.Single().ShouldStartWith("R² = 0.134: ");
        assessed[1].Credibility.Reasons.Single().ShouldStartWith("R² = 0.343: ");
        assessed[2].Credibility.Reasons.Count.ShouldBe(3);
        assessed[2].Credibility.Reasons[0].ShouldBe("exponent alpha = -1.19 is outside what width scaling supports (0 to 3)");
        assessed[2].Credibility.Reasons[1].ShouldStartWith("the 95% interval of A, [");
        assessed[2].Credibility.Reasons[2].ShouldStartWith("R² = 0.0986: ");
    }

    private static StudyTestKit TinyStudy()
    {
        static double Parse(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        var rows = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "tiny-432.csv")).Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(',')).Select(f => (Width: int.Parse(f[0], CultureInfo.InvariantCulture), Rate: Parse(f[1]),
                Seed: int.Parse(f[2], CultureInfo.InvariantCulture), Loss: f[3] == "Completed" ? Parse(f[4]) : (double?)null))
            .ToList();
        rows.Count.ShouldBe(432);
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, rows.Select(r => r.Width).Distinct().ToList(), "standard"),
            Optimizer = new OptimizerSpec("adam", rows.Select(r => r.Rate).Distinct().ToList()),
            Seeds = [0, 1, 2],
            TargetWidths = [64],
        };
        var outcomes = rows.ToDictionary(r => (r.Width, r.Rate, r.Seed), r => r.Loss);
        return new StudyTestKit(spec).FinishAll(t => outcomes[(t.Width, t.LearningRate, t.Seed)]);
    }

    /// <summary>
    /// A coarse grid whose rate above the best diverged at every width: each width's best rate is the same grid rate, kept
    /// unrefined (no parabola through a diverged neighbour), so every bootstrap resample finds the same optima and the
    /// slope comes out d = 0 [0, 0]. An interval of no width is no interval: the fit is not credible, and says why.
    /// </summary>
    [Fact]
    public void a_diverged_neighbour_no_longer_yields_a_credible_d_of_0_within_0_0()
    {
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, [16, 32, 64, 128], "standard"),
            Optimizer = new OptimizerSpec("adam", [1e-3, 1e-2, 1e-1]),
            Seeds = [0, 1],
        };
        var kit = new StudyTestKit(spec).FinishAll(t => t.LearningRate == 1e-1 ? null
            : MetzLike.Frontier(t.Width) + (t.LearningRate == 1e-3 ? 0.1 : 0) + 0.002 * t.Seed);
        var fit = TestLaws.OptimalLr(kit.View.Trials, new FitOptions(new BootstrapOptions(200)))!;
        var fitted = LawEngine.ToEvent(kit.StudyId, fit, Guid.NewGuid(), kit.View.LastSequence, StudyTestKit.Now);
        fitted.Parameters["d"].ShouldBe(0, 1e-9);
        fitted.Intervals!["d"].Lower.ShouldBe(fitted.Intervals["d"].Upper, 1e-12);

        var verdict = CredibilityRule.Assess(fitted);
        verdict.Credible.ShouldBeFalse();
        verdict.Reasons.ShouldContain(r => r.Contains("d's 95% interval", StringComparison.Ordinal) && r.Contains("no width", StringComparison.Ordinal));
    }
}

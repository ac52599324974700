using System.Globalization;
using ScalingLedger.Domain.Fitting;

namespace ScalingLedger.Domain.Tests;

public class ChinchillaTests
{
    /// <summary>
    /// A subset of the replication's 5,400-start grid: alpha and beta in full, e in {-1, 0, 1}, a and b in {0, 10, 20}
    /// (675 starts). On the real data every converged start of the full grid (5,374 of 5,400) reaches the same
    /// optimum to 1e-13 in the objective, so the subset loses nothing but time (the full grid takes ~15 s here);
    /// <see cref="the_coarse_grid_optimum_is_no_worse_than_refining_the_published_estimates"/> checks it independently.
    /// </summary>
    private static readonly IReadOnlyList<double[]> CoarseGrid =
        ChinchillaFitter.Grid([0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2], [-1, 0, 1], [0, 10, 20], [0, 10, 20]);

    /// <summary>Besiroglu et al. 2024 (arXiv 2404.10102), their table of estimates (standard errors).</summary>
    private const double PublishedE = 1.8172, PublishedA = 482.01, PublishedB = 2085.43, PublishedAlpha = 0.3478, PublishedBeta = 0.3658;

    /// <summary>The runs of Hoffmann et al.'s Figure 4 as extracted by Epoch AI, less the 5 with the highest loss.</summary>
    internal static (double[] N, double[] D, double[] L) EpochData()
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "svg_extracted_data.csv"));
        var header = lines[0].Split(',');
        int n = Array.IndexOf(header, "Model Size"), c = Array.IndexOf(header, "Training FLOP"), l = Array.IndexOf(header, "loss");
        var runs = lines.Skip(1).Where(line => line.Length > 0).Select(line => line.Split(','))
            .Select(f => (N: Parse(f[n]), C: Parse(f[c]), L: Parse(f[l])))
            .ToList();
        runs.Count.ShouldBe(245);
        var kept = runs.OrderByDescending(r => r.L).Skip(5).ToList();
        return (kept.Select(r => r.N).ToArray(), kept.Select(r => r.C / (6 * r.N)).ToArray(), kept.Select(r => r.L).ToArray());
    }

    private static double Parse(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void replicates_the_epoch_ai_estimates_on_the_chinchilla_data()
    {
        var (n, d, l) = EpochData();
        var fit = ChinchillaFitter.Fit(n, d, l, new ChinchillaOptions(CoarseGrid, new BootstrapOptions(1000)));
        fit.Converged.ShouldBeTrue();
        // Tolerances: the exponents within 0.01 (half the published standard error of 0.02); E within 0.02 (the
        // published SE is 0.03); A and B within 10%, far inside their published SEs (124.58 on 482, i.e. 26%, and
        // 1293.23 on 2085, i.e. 62%). This fitter finds E 1.8172, A 477.8, B 2143.4, alpha 0.3473, beta 0.3672, with
        // a lower objective than the published point (see the next test): the small gaps are optimiser stopping, not
        // method.
        fit.Alpha.ShouldBe(PublishedAlpha, 0.01);
        fit.Beta.ShouldBe(PublishedBeta, 0.01);
        fit.E.ShouldBe(PublishedE, 0.02);
        fit.A.ShouldBe(PublishedA, 0.10 * PublishedA);
        fit.B.ShouldBe(PublishedB, 0.10 * PublishedB);
        fit.StartsConverged.ShouldBeGreaterThan(CoarseGrid.Count / 2);
        // The bootstrap over points: every 95% interval holds the published estimate, and the exponents' intervals
        // are about as wide as the published SEs imply (2 x 1.96 x 0.02 = 0.078; accept 0.04 to 0.16).
        fit.BootstrapConverged.ShouldBeGreaterThan(990);
        fit.Intervals["alpha"].Lower.ShouldBeLessThan(PublishedAlpha);
        fit.Intervals["alpha"].Upper.ShouldBeGreaterThan(PublishedAlpha);
        fit.Intervals["beta"].Lower.ShouldBeLessThan(PublishedBeta);
        fit.Intervals["beta"].Upper.ShouldBeGreaterThan(PublishedBeta);
        fit.Intervals["E"].Lower.ShouldBeLessThan(PublishedE);
        fit.Intervals["E"].Upper.ShouldBeGreaterThan(PublishedE);
        fit.Intervals["A"].Lower.ShouldBeLessThan(PublishedA);
        fit.Intervals["A"].Upper.ShouldBeGreaterThan(PublishedA);
        fit.Intervals["B"].Lower.ShouldBeLessThan(PublishedB);
        fit.Intervals["B"].Upper.ShouldBeGreaterThan(PublishedB);
        (fit.Intervals["alpha"].Upper - fit.Intervals["alpha"].Lower).ShouldBeInRange(0.04, 0.16);
        (fit.Intervals["beta"].Upper - fit.Intervals["beta"].Lower).ShouldBeInRange(0.04, 0.16);
    }

    [Fact]
    public void the_coarse_grid_optimum_is_no_worse_than_refining_the_published_estimates()
    {
        var (n, d, l) = EpochData();
        var none = new BootstrapOptions(0);
        var grid = ChinchillaFitter.Fit(n, d, l, new ChinchillaOptions(CoarseGrid, none));
        double[] published = [Math.Log(PublishedA), Math.Log(PublishedB), PublishedAlpha, PublishedBeta, Math.Log(PublishedE)];
        var fromPublished = ChinchillaFitter.Fit(n, d, l, new ChinchillaOptions([published], none));
        fromPublished.Converged.ShouldBeTrue();
        grid.Objective.ShouldBeLessThanOrEqualTo(fromPublished.Objective + 1e-9);
    }

    [Fact]
    public void recovers_known_parameters_from_synthetic_runs()
    {
        // Hoffmann et al.'s published law on an 8 x 8 grid of N in [1e7, 1e10] and D in [1e9, 1e12]. Exact data make the
        // objective zero at the truth; the stopping rule leaves parameters within ~1e-6, so 1e-4 relative is safe.
        var (n, d, l) = Synthetic(1.69, 406.4, 410.7, 0.34, 0.28, noise: 0);
        var fit = ChinchillaFitter.Fit(n, d, l, new ChinchillaOptions(CoarseGrid, new BootstrapOptions(0)));
        fit.Converged.ShouldBeTrue();
        fit.E.ShouldBe(1.69, 1.69e-4);
        fit.A.ShouldBe(406.4, 406.4e-4);
        fit.B.ShouldBe(410.7, 410.7e-4);
        fit.Alpha.ShouldBe(0.34, 1e-4);
        fit.Beta.ShouldBe(0.28, 1e-4);
        fit.RSquared!.Value.ShouldBe(1.0, 1e-9);
    }

    [Fact]
    public void recovers_the_exponents_through_bounded_noise()
    {
        // +-0.5% deterministic noise on 64 runs: the exponents move by a few thousandths (about 0.003 here);
        // 0.02 is the tolerance, and E within 3%.
        var (n, d, l) = Synthetic(1.69, 406.4, 410.7, 0.34, 0.28, noise: 0.005);
        var fit = ChinchillaFitter.Fit(n, d, l, new ChinchillaOptions(CoarseGrid, new BootstrapOptions(200),
            PredictAt: [(7e10, 1.4e12)]));
        fit.Converged.ShouldBeTrue();
        fit.Alpha.ShouldBe(0.34, 0.02);
        fit.Beta.ShouldBe(0.28, 0.02);
        fit.E.ShouldBe(1.69, 0.03 * 1.69);
        // Chinchilla itself (70B parameters, 1.4T tokens): the prediction and its interval bracket the true law's value.
        var truth = ChinchillaFitter.Evaluate(1.69, 406.4, 410.7, 0.34, 0.28, 7e10, 1.4e12);
        var prediction = fit.Predictions.Single();
        prediction.Value.ShouldBe(truth, 0.02);
        prediction.Lower!.Value.ShouldBeLessThan(prediction.Upper!.Value);
    }

    [Fact]
    public void permuting_runs_changes_nothing_bit_for_bit()
    {
        var (n, d, l) = Synthetic(1.69, 406.4, 410.7, 0.34, 0.28, noise: 0.005);
        var options = new ChinchillaOptions(ChinchillaFitter.Grid([0.5], [0.5], [0, 1], [5, 10], [5, 10]), new BootstrapOptions(50));
        var order = Enumerable.Range(0, n.Length).Reverse().ToArray();
        var a = ChinchillaFitter.Fit(n, d, l, options);
        var b = ChinchillaFitter.Fit(order.Select(i => n[i]).ToArray(), order.Select(i => d[i]).ToArray(), order.Select(i => l[i]).ToArray(), options);
        b.Parameters.ShouldBe(a.Parameters);
        b.Intervals.ShouldBe(a.Intervals);
    }

    [Fact]
    public void too_few_runs_are_reported_not_fitted()
    {
        var fit = ChinchillaFitter.Fit([1e8, 1e9, 1e10], [1e10, 1e11, 1e12], [3, 2.5, 2.2]);
        fit.Converged.ShouldBeFalse();
        fit.Message!.ShouldContain("at least 6");
    }

    private static (double[] N, double[] D, double[] L) Synthetic(double e, double a, double b, double alpha, double beta, double noise)
    {
        var runs = (from i in Enumerable.Range(0, 8) from j in Enumerable.Range(0, 8)
                    select (N: Math.Pow(10, 7 + i * 3.0 / 7), D: Math.Pow(10, 9 + j * 3.0 / 7), K: i * 8 + j)).ToList();
        return (runs.Select(r => r.N).ToArray(), runs.Select(r => r.D).ToArray(),
            runs.Select(r => ChinchillaFitter.Evaluate(e, a, b, alpha, beta, r.N, r.D) * (1 + noise * Math.Sin(1.7 * r.K))).ToArray());
    }
}

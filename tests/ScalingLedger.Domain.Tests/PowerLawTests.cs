using CsCheck;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Tests;

public class PowerLawTests
{
    // Metz-like widths: 16 to 32768, ln h spanning 2.8 to 10.4.
    private static readonly double[] Widths = Enumerable.Range(0, 12).Select(i => (double)(16 << i)).ToArray();

    private static double[] Law(double e, double a, double alpha) => Widths.Select(h => PowerLawFitter.Evaluate(e, a, alpha, h)).ToArray();

    [Fact]
    public void recovers_known_parameters_from_exact_points()
    {
        // Exact data: the Huber objective is zero at the truth, so only the optimiser's stopping rule (relative
        // gradient 1e-9) separates the fit from it; 1e-6 relative leaves three orders of magnitude of slack.
        var fit = PowerLawFitter.Fit(Widths, Law(0.25, 2.0, 0.35));
        fit.Converged.ShouldBeTrue();
        fit.E.ShouldBe(0.25, 0.25e-6);
        fit.A.ShouldBe(2.0, 2e-6);
        fit.Alpha.ShouldBe(0.35, 1e-6);
        fit.RSquared!.Value.ShouldBe(1.0, 1e-9);
        fit.StartsConverged.ShouldBeGreaterThan(0);
        fit.StartsTried.ShouldBe(PowerLawFitter.StartAlphas.Length * PowerLawFitter.StartFloorFractions.Length);
    }

    [Fact]
    public void recovers_known_parameters_through_bounded_noise()
    {
        // +-1% multiplicative noise. Over 300 random +-1% draws on these widths the worst errors were 3.9% (E), 5.2% (A)
        // and 0.018 (alpha); this fixed pattern must stay within 5%, 8% and 0.025.
        var noise = new[] { 0.01, -0.01, 0.005, -0.005, 0.0, 0.01, -0.01, 0.005, -0.005, 0.0, 0.01, -0.01 };
        var y = Law(0.25, 2.0, 0.35).Select((v, i) => v * (1 + noise[i])).ToArray();
        var fit = PowerLawFitter.Fit(Widths, y);
        fit.Converged.ShouldBeTrue();
        fit.E.ShouldBe(0.25, 0.05 * 0.25);
        fit.A.ShouldBe(2.0, 0.08 * 2.0);
        fit.Alpha.ShouldBe(0.35, 0.025);
        fit.RSquared!.Value.ShouldBeGreaterThan(0.99);
    }

    [Fact]
    public void permuting_points_changes_nothing_bit_for_bit() =>
        Gen.Select(Gen.Double[0.05, 2.0], Gen.Double[0.5, 20.0], Gen.Double[0.1, 1.0], Gen.Shuffle(Enumerable.Range(0, 12).ToArray()))
            .Sample((e, a, alpha, order) =>
            {
                var y = Law(e, a, alpha).Select((v, i) => v * (1 + 0.01 * Math.Sin(7.0 * i))).ToArray();
                var sorted = PowerLawFitter.Fit(Widths, y);
                var permuted = PowerLawFitter.Fit(order.Select(i => Widths[i]).ToArray(), order.Select(i => y[i]).ToArray());
                permuted.ShouldBe(sorted);
            }, iter: 25, threads: 1);

    [Fact]
    public void monotone_falling_data_give_a_positive_exponent() =>
        // For any strictly falling losses the best law falls too: a rising (alpha < 0) or flat one fits worse than a constant.
        Gen.Select(Gen.Double[0.5, 5.0], Gen.Double[0.002, 0.3].Array[5, 12])
            .Sample((first, drops) =>
            {
                var y = new double[drops.Length];
                y[0] = first;
                for (var i = 1; i < y.Length; i++) y[i] = y[i - 1] * (1 - drops[i]);
                var fit = PowerLawFitter.Fit(Widths.Take(y.Length).ToArray(), y);
                fit.Converged.ShouldBeTrue();
                fit.Alpha.ShouldBeGreaterThan(0);
            }, iter: 40, threads: 1,
            // Fixed so CI is repeatable: this seed once found the fitter throwing on an overflowing start (now a failed
            // start). Drop the seed locally to explore new cases.
            seed: "cX-OzV76eC72");

    [Fact]
    public void rising_data_give_a_negative_exponent()
    {
        var fit = PowerLawFitter.Fit(Widths, Law(0.1, 0.05, -0.2));
        fit.Converged.ShouldBeTrue();
        fit.Alpha.ShouldBe(-0.2, 1e-6);
    }

    [Fact]
    public void a_fit_that_does_not_converge_is_reported_with_why()
    {
        // Three iterations cannot reach the optimum from any start; MathNet's L-BFGS returns silently at its limit,
        // which the fitter must report as not converged (and Nelder-Mead, limited the same way, fails too).
        var fit = PowerLawFitter.Fit(Widths, Law(0.25, 2.0, 0.35), new OptimiserOptions(MaxIterations: 3));
        fit.Converged.ShouldBeFalse();
        fit.Message!.ShouldContain("Did not converge");
        fit.StartsConverged.ShouldBe(0);
        fit.StartsTried.ShouldBe(15);
        fit.RSquared.ShouldBeNull();
    }

    [Fact]
    public void too_few_widths_are_reported_not_fitted()
    {
        var fit = PowerLawFitter.Fit(Widths.Take(3).ToArray(), Law(0.25, 2.0, 0.35).Take(3).ToArray());
        fit.Converged.ShouldBeFalse();
        fit.Message!.ShouldContain("at least 4");
    }

    [Fact]
    public void rejects_non_positive_losses() =>
        Should.Throw<ArgumentException>(() => PowerLawFitter.Fit([16, 32, 64, 128], [1, 0.5, 0, 0.2]));
}

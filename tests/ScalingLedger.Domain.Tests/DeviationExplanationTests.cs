using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Tests;

/// <summary>A deviation explained: which way it missed, and where the optimal-LR law puts the best rate against the rate assumed.</summary>
public class DeviationExplanationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void a_fixed_rate_claim_above_the_best_rate_at_that_width_names_how_far_too_high_it_was()
    {
        // ln lr* = ln(0.01) - 0.5 ln(w / 1): at width 100 the best rate is 0.001; the claim assumed 0.01.
        var lines = DeviationExplanation.Explain(Prediction(100, 0.01, 0.50, 0.48, 0.52), Resolution(0.60, 9.8), OptimalLr(Math.Log(0.01), -0.5));
        lines[0].ShouldContain("above the 95% interval");
        lines[0].ShouldContain("by 0.08");
        lines[1].ShouldContain("best rate at width 100 at 0.001");
        lines[1].ShouldContain("10.0x too high");
    }

    [Fact]
    public void a_claim_at_the_best_rate_points_elsewhere_than_the_rate()
    {
        var lines = DeviationExplanation.Explain(Prediction(100, 0.0011, 0.50, 0.48, 0.52), Resolution(0.45, -4.9), OptimalLr(Math.Log(0.01), -0.5));
        lines[0].ShouldContain("below the 95% interval");
        lines[1].ShouldContain("close to the optimum");
    }

    [Fact]
    public void every_trial_diverging_is_said_plainly_and_an_unfitted_optimal_lr_law_is_named_as_unknown()
    {
        var lines = DeviationExplanation.Explain(Prediction(100, 0.01, 0.50, 0.48, 0.52), Resolution(null, null), null);
        lines[0].ShouldContain("Every trial at width 100 diverged");
        lines[1].ShouldContain("optimal-LR law is not fitted");
    }

    private static PredictionIssued Prediction(double width, double? rate, double predicted, double lower, double upper) =>
        new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), LawNames.FixedLrLogLinear, "lr=0.01", width, rate, predicted, lower, upper, "planned", 10, [],
            LawEngine.FitterVersion, Now);

    private static PredictionResolved Resolution(double? observed, double? z) =>
        new(Guid.NewGuid(), Guid.NewGuid(), observed, observed - 0.5, z, false, null, [], 20, Now);

    private static LawFitted OptimalLr(double c, double d) =>
        new(Guid.NewGuid(), Guid.NewGuid(), LawNames.OptimalLr, "all", LawEngine.OptimalLrForm, new Dictionary<string, double> { ["c"] = c, ["d"] = d },
            true, null, 0.95, [], [], 10, "m", LawEngine.FitterVersion, Now);
}

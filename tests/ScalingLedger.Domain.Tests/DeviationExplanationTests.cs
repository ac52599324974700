using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// A deviation explained: which way it missed, and whether the rate the claim assumed drifts away from (or towards) the
/// optimal-LR law's best rate between the widths the law was fitted on and the predicted width.
/// </summary>
public class DeviationExplanationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    // ln lr* = ln(0.01) - 0.5 ln w: the best rate is 0.01 at width 1, 0.001 at width 100, 0.01/sqrt(8) at width 8.
    private static readonly LawFitted Shrinking = OptimalLr(Math.Log(0.01), -0.5);

    [Fact]
    public void a_rate_that_drifts_past_the_optimum_as_width_grows_explains_a_wide_model_doing_worse()
    {
        // The law was fitted on widths up to 8 at rate 0.01 (2.8x too high there); at width 100 the rate is 10x too high.
        var lines = DeviationExplanation.Explain(Prediction(100, 0.01, 0.50, 0.48, 0.52), Resolution(0.60, 9.8), Shrinking, [2, 4, 8]);
        lines[0].ShouldContain("above the 95% interval");
        lines[0].ShouldContain("by 0.08");
        lines[1].ShouldContain("best rate at width 100 at 0.001");
        lines[1].ShouldContain("10.0x too high");
        lines[1].ShouldContain("further from its best than at width 8");
        lines[1].ShouldContain("2.8x off there");
        lines[1].ShouldContain("as observed");
    }

    [Fact]
    public void a_rate_that_drifts_towards_the_optimum_explains_a_wide_model_doing_better()
    {
        // Rate 0.0005: 5.7x too low at width 8, 2x too low at width 100.
        var lines = DeviationExplanation.Explain(Prediction(100, 0.0005, 0.50, 0.48, 0.52), Resolution(0.45, -4.9), Shrinking, [2, 4, 8]);
        lines[0].ShouldContain("below the 95% interval");
        lines[1].ShouldContain("2.0x too low");
        lines[1].ShouldContain("closer to its best than at width 8");
        lines[1].ShouldContain("as observed");
    }

    [Fact]
    public void a_drift_that_points_the_other_way_is_said_not_to_explain_the_deviation()
    {
        var lines = DeviationExplanation.Explain(Prediction(100, 0.01, 0.50, 0.48, 0.52), Resolution(0.45, -4.9), Shrinking, [2, 4, 8]);
        lines[1].ShouldContain("the rate does not explain this deviation");
    }

    [Fact]
    public void a_rate_as_far_from_the_optimum_as_where_it_was_fitted_points_elsewhere()
    {
        // Under muP the best rate does not move (d = 0): the rate is equally off everywhere.
        var lines = DeviationExplanation.Explain(Prediction(100, 0.003, 0.50, 0.48, 0.52), Resolution(0.60, 9.8), OptimalLr(Math.Log(0.01), 0), [2, 4, 8]);
        lines[1].ShouldContain("about as far from its best");
        lines[1].ShouldContain("The rate is not the cause");
    }

    [Fact]
    public void every_trial_diverging_is_said_plainly_and_an_unfitted_optimal_lr_law_is_named_as_unknown()
    {
        var lines = DeviationExplanation.Explain(Prediction(100, 0.01, 0.50, 0.48, 0.52), Resolution(null, null), null, [2, 4, 8]);
        lines[0].ShouldContain("Every trial at width 100 diverged");
        lines[1].ShouldContain("optimal-LR law is not fitted");
    }

    private static PredictionIssued Prediction(double width, double? rate, double predicted, double lower, double upper) =>
        new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), FixedLrLogLinearLaw.LawName, "lr=0.01", width, rate, predicted, lower, upper, "planned", 10, [],
            LawEngine.FitterVersion, Now);

    private static PredictionResolved Resolution(double? observed, double? z) =>
        new(Guid.NewGuid(), Guid.NewGuid(), observed, observed - 0.5, z, false, null, [], 20, Now);

    private static LawFitted OptimalLr(double c, double d) =>
        new(Guid.NewGuid(), Guid.NewGuid(), OptimalLrLaw.LawName, "all", new OptimalLrLaw().Form, new Dictionary<string, double> { ["c"] = c, ["d"] = d },
            true, null, 0.95, [], [], 10, "m", LawEngine.FitterVersion, Now);
}

using CsCheck;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class PredictionTests
{
    [Fact]
    public void an_observation_inside_the_interval_resolves_inside_with_its_z_score()
    {
        var r = PredictionResolution.Resolve(predicted: 1.0, lower: 0.9, upper: 1.1, observed: 1.05);
        r.Inside.ShouldBeTrue();
        r.Residual.ShouldBe(0.05, 1e-12);
        // Half-width 0.1 is 1.96 sigma: sigma = 0.051, z = 0.98.
        r.ZScore.ShouldBe(0.05 / (0.1 / PredictionResolution.Z95), 1e-12);
    }

    [Fact]
    public void an_observation_above_the_interval_is_a_deviation_with_positive_z()
    {
        var r = PredictionResolution.Resolve(1.0, 0.9, 1.1, 1.3);
        r.Inside.ShouldBeFalse();
        r.Residual.ShouldBe(0.3, 1e-12);
        r.ZScore.ShouldBeGreaterThan(PredictionResolution.Z95);
    }

    [Fact]
    public void an_observation_below_the_interval_is_a_deviation_with_negative_z()
    {
        var r = PredictionResolution.Resolve(1.0, 0.9, 1.1, 0.7);
        r.Inside.ShouldBeFalse();
        r.ZScore.ShouldBeLessThan(-PredictionResolution.Z95);
    }

    [Fact]
    public void the_interval_bounds_count_as_inside()
    {
        PredictionResolution.Resolve(1.0, 0.9, 1.1, 0.9).Inside.ShouldBeTrue();
        PredictionResolution.Resolve(1.0, 0.9, 1.1, 1.1).Inside.ShouldBeTrue();
    }

    [Fact]
    public void a_zero_width_interval_gives_an_infinite_z_of_the_residuals_sign()
    {
        PredictionResolution.Resolve(1.0, 1.0, 1.0, 1.0).ShouldBe(new ResolvedPrediction(0, 0, true));
        PredictionResolution.Resolve(1.0, 1.0, 1.0, 1.2).ZScore.ShouldBe(double.PositiveInfinity);
        PredictionResolution.Resolve(1.0, 1.0, 1.0, 0.8).ZScore.ShouldBe(double.NegativeInfinity);
    }

    [Fact]
    public void rejects_an_upside_down_interval() =>
        Should.Throw<ArgumentException>(() => PredictionResolution.Resolve(1.0, 1.1, 0.9, 1.0));

    [Fact]
    public void the_z_score_has_the_residuals_sign_and_crosses_1_96_at_a_symmetric_intervals_edge() =>
        Gen.Select(Gen.Double[-10, 10], Gen.Double[0.001, 5], Gen.Double[-20, 20])
            .Sample((predicted, half, observed) =>
            {
                var r = PredictionResolution.Resolve(predicted, predicted - half, predicted + half, observed);
                Math.Sign(r.ZScore).ShouldBe(Math.Sign(r.Residual));
                if (Math.Abs(Math.Abs(r.ZScore) - PredictionResolution.Z95) > 1e-9)
                    r.Inside.ShouldBe(Math.Abs(r.ZScore) < PredictionResolution.Z95);
            });

    private static PredictionView Predicted(string law, double width, long issuedAt, double observed, bool? insideBootstrap = null)
    {
        var id = Guid.NewGuid();
        var issued = new PredictionIssued(Guid.Empty, id, Guid.Empty, law, "all", width, null, 1, 0.9, 1.1, "planned", 0, [], "3.0.0",
            DateTimeOffset.UnixEpoch, BootstrapLower: insideBootstrap is null ? null : 0.95, BootstrapUpper: insideBootstrap is null ? null : 1.05);
        var r = PredictionResolution.Resolve(1, 0.9, 1.1, observed);
        return new PredictionView
        {
            Id = id, Issued = issued, IssuedSequence = issuedAt,
            Resolution = new PredictionResolved(Guid.Empty, id, observed, r.Residual, r.ZScore, r.Inside, null, [], 100, DateTimeOffset.UnixEpoch,
                insideBootstrap),
        };
    }

    [Fact]
    public void calibration_counts_each_point_once_by_the_last_prediction_issued_before_it_was_observed()
    {
        var calibration = Calibration.LastBeforeObservation(
        [
            // Width 64 was predicted three times; the last (issued at 3) is the one a researcher would have acted on.
            Predicted("tuned-frontier-power", 64, 1, 1.5),
            Predicted("tuned-frontier-power", 64, 3, 1.05),
            Predicted("tuned-frontier-power", 64, 2, 1.5),
            Predicted("tuned-frontier-power", 128, 4, 1.5),
            Predicted("tuned-frontier-power", 256, 5, 0.95, insideBootstrap: false),
            Predicted("optimal-lr", 64, 1, 1.0, insideBootstrap: true),
        ]);
        calibration.Select(c => c.Law).ShouldBe(["optimal-lr", "tuned-frontier-power"]);
        var frontier = calibration[1];
        (frontier.Resolved, frontier.Inside).ShouldBe((3, 2));
        frontier.ShareInside.ShouldBe(2 / 3.0, 1e-12);
        frontier.MeanAbsZ!.Value.ShouldBe((0.05 + 0.5 + 0.05) / 3 / (0.1 / PredictionResolution.Z95), 1e-9);
        // Wilson's interval of 2 in 3: about 21% to 94%.
        frontier.Lower.ShouldBe(0.2077, 1e-3);
        frontier.Upper.ShouldBe(0.9385, 1e-3);
        (frontier.BootstrapResolved, frontier.BootstrapInside).ShouldBe((1, 0));
        calibration[0].BootstrapShare.ShouldBe(1.0);
    }

    [Theory]
    [InlineData(512, 512, 0)]
    [InlineData(256, 512, 0)]
    [InlineData(1024, 512, 1)]
    [InlineData(1500, 1024, 1)]
    [InlineData(2048, 512, 2)]
    [InlineData(4096, 512, 3)]
    [InlineData(8192, 256, 3)]
    public void reach_counts_doublings_beyond_the_widest_width_seen_rounded_up(double width, double widest, int reach) =>
        CalibrationAtReach.Reach(width, widest).ShouldBe(reach);

    private static PredictionView Claim(string key, double width, Guid fit, long issuedAt, double observed, double lower = 0.5, double upper = 2)
    {
        var id = Guid.NewGuid();
        var issued = new PredictionIssued(Guid.Empty, id, fit, "fixed-lr-loglinear", key, width, null, 1, lower, upper, "planned", 0, [], "3.0.0",
            DateTimeOffset.UnixEpoch);
        var r = PredictionResolution.Resolve(1, lower, upper, observed);
        return new PredictionView
        {
            Id = id, Issued = issued, IssuedSequence = issuedAt,
            Resolution = new PredictionResolved(Guid.Empty, id, observed, r.Residual, r.ZScore, r.Inside, null, [], 100, DateTimeOffset.UnixEpoch),
        };
    }

    [Fact]
    public void calibration_at_reach_keeps_the_last_claim_at_each_reach_and_counts_a_widths_claims_as_one_event()
    {
        Guid fitTo256 = Guid.NewGuid(), fitTo512 = Guid.NewGuid(), unknown = Guid.NewGuid();
        var widest = new Dictionary<Guid, double> { [fitTo256] = 256, [fitTo512] = 512 };
        var rows = CalibrationAtReach.Of(
        [
            // Width 2048 from the fit to 256 (3 doublings): two rates' claims, one missed: one width-event, not held.
            Claim("lr=0.001", 2048, fitTo256, 1, 1.5),
            Claim("lr=0.003", 2048, fitTo256, 2, 3),
            // An earlier claim at the same reach about the same point gives way to the later one.
            Claim("lr=0.001", 1024, fitTo256, 3, 5),
            Claim("lr=0.001", 1024, fitTo256, 4, 1.3, lower: 0.9, upper: 1.1 * 1.1),
            // From the fit to 512 width 1024 is one doubling ahead: its own row.
            Claim("lr=0.001", 1024, fitTo512, 5, 1.1),
            // A claim whose fit's widths are unknown is left out.
            Claim("lr=0.001", 4096, unknown, 6, 1),
        ], (_, fit) => widest.TryGetValue(fit, out var w) ? w : null);
        rows.Select(r => r.Reach).ShouldBe([1, 2, 3]);
        var (one, two, three) = (rows[0], rows[1], rows[2]);
        (one.Claims, one.ClaimsInside, one.WidthEvents, one.WidthEventsHeld).ShouldBe((1, 1, 1, 1));
        (two.Claims, two.ClaimsInside, two.WidthEvents, two.WidthEventsHeld).ShouldBe((1, 0, 1, 0));
        two.MedianFactor!.Value.ShouldBe(Math.Sqrt(1.21 / 0.9), 1e-12);
        (three.Claims, three.ClaimsInside, three.WidthEvents, three.WidthEventsHeld).ShouldBe((2, 1, 1, 0));
        three.MedianFactor!.Value.ShouldBe(2, 1e-12);
        (three.Lower, three.Upper).ShouldBe(Calibration.Wilson(0, 1));
    }

    [Fact]
    public void the_binomial_interval_of_a_share_holds_the_share_within_zero_and_one_and_narrows_with_more_points() =>
        Gen.Select(Gen.Int[1, 400], Gen.Double[0, 1]).Sample((n, share) =>
        {
            var k = (int)Math.Round(share * n);
            var (lower, upper) = Calibration.Wilson(k, n);
            ((double)k / n).ShouldBeInRange(lower - 1e-12, upper + 1e-12);
            lower.ShouldBeGreaterThanOrEqualTo(0);
            upper.ShouldBeLessThanOrEqualTo(1);
            var (moreLower, moreUpper) = Calibration.Wilson(4 * k, 4 * n);
            (moreUpper - moreLower).ShouldBeLessThan(upper - lower);
        });

    [Fact]
    public void a_study_fits_predictions_resolve_against_what_the_wider_width_shows()
    {
        // Fit on the first eight widths, predict width 4096 (the ninth), then observe it: the tuned frontier's
        // prediction resolves with a residual within the grid's frontier bias (0.009) plus 1% noise.
        var all = MetzLike.Study(widths: MetzLike.Widths[..9]);
        var early = MetzLike.Study(widths: MetzLike.Widths[..8]);
        var options = new FitOptions(new BootstrapOptions(300), PredictAt: [4096]);
        var fits = TestLaws.FitAll(early.View, options);
        var frontierFit = fits.Single(f => f.Law == TunedFrontierPowerLaw.LawName);
        var prediction = frontierFit.Predictions!.Single();
        var observed = OptimalLearningRate.PerWidth(all.View.Trials).Single(o => o.Width == 4096).MeanLoss;
        var resolved = PredictionResolution.Resolve(prediction.Value, prediction.Lower!.Value, prediction.Upper!.Value, observed);
        resolved.Residual.ShouldBe(observed - prediction.Value);
        Math.Abs(resolved.Residual).ShouldBeLessThan(0.02);
    }
}

using System.Text.Json.Nodes;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Charts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web.Components.Charts;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// The charts are pure: read models in, charts out, drawn by three renderers (ApexCharts' options, the first paint's SVG, the
/// report's images). JSON cannot carry NaN or infinity (the serializer throws), so a value that is not finite must be left
/// out of a series, never reach a renderer.
/// </summary>
public class StudyChartsTests
{
    [Fact]
    public void runs_imported_without_a_width_stay_off_the_width_charts()
    {
        var imported = new StudyImported(Guid.NewGuid(), "params only", "tester",
            [new ImportedRun(Guid.NewGuid(), 0, 2, null, 1e9, 2e10, null, null, 2.5),
             new ImportedRun(Guid.NewGuid(), 1, 3, null, 4e9, 8e10, null, null, 2.2)], ["params", "tokens", "loss"], "tester", DateTimeOffset.UtcNow);
        var view = StudyProjection.Fold([(imported, new RecordedSequence(1))]);
        Chart[] charts = [StudyCharts.LossVsWidth(view), StudyCharts.LossVsRate(view), StudyCharts.Heatmap(view), StudyCharts.OptimalLr(view)];
        foreach (var chart in charts)
        {
            chart.IsEmpty.ShouldBeTrue();
            // ApexCharts is given no series and the chart's words (it would draw an empty numeric chart at infinite coordinates).
            var options = JsonNode.Parse(ApexOptions.Json(chart))!;
            options["series"]!.AsArray().ShouldBeEmpty();
            ((string?)options["ledger"]!["empty"]).ShouldBe(chart.NoData);
        }
    }

    [Fact]
    public void values_that_are_not_finite_are_left_out_and_every_finite_one_is_drawn()
    {
        var study = Study([(8, 0.01, TrialStatus.Completed, 1.0), (8, 0.01, TrialStatus.Completed, 0.9), (16, 0.01, TrialStatus.Completed, double.NaN),
                           (32, 0.01, TrialStatus.Completed, 0.8)]);
        study.Spec = study.Spec! with { TargetWidths = [64, 128] };
        // A log-linear fit with an interval at one target that runs off to infinity and one that is finite.
        study.LatestFits.Add(Fit(FixedLrLogLinearLaw.LawName, LawKeys.Rate(0.01), new() { ["a"] = 1.2, ["b"] = -0.1 },
            [new FitPrediction(64, 0.78, 0.7, 0.86), new FitPrediction(128, 0.71, double.NegativeInfinity, 0.9)]));

        var chart = StudyCharts.LossVsWidth(study);
        Should.NotThrow(() => ApexOptions.Json(chart));
        // One point per width (the mean over seeds); width 16's only loss is not finite, so it has none.
        chart.Series.Single(s => s.Name == "lr 0.01").Points.Select(p => p.Y!.Value).ShouldBe([0.95, 0.8], tolerance: 1e-9);

        // The audit draws any fit, credible or not: its interval that runs off to infinity is left out, the finite one drawn.
        var audit = StudyCharts.Fit(study.LatestFits[0], null, null);
        var bar = audit.Series.Single(s => s.Name == "fit's 95% intervals");
        bar.Kind.ShouldBe(SeriesKind.Intervals);
        bar.Points.ShouldBe([new ChartPoint(Math.Log10(64), 0.7), new ChartPoint(Math.Log10(64), 0.86), new ChartPoint(Math.Log10(64), null)]);
        // ApexCharts gets one bar for the finite interval: lower, upper, and a gap (an explicit null, which ends the bar).
        var json = Should.NotThrow(() => ApexOptions.Json(audit));
        var data = JsonNode.Parse(json)!["series"]!.AsArray().Single(s => (string?)s!["name"] == "fit's 95% intervals")!["data"]!.AsArray();
        data.Select(p => p!.ToJsonString()).ShouldBe(["{\"x\":1.80618,\"y\":0.7}", "{\"x\":1.80618,\"y\":0.86}", "{\"x\":1.80618,\"y\":null}"]);
    }

    [Fact]
    public void the_heatmap_has_a_row_per_width_and_marks_diverged_failed_and_unfinished_cells_apart()
    {
        var study = Study([
            (8, 0.001, TrialStatus.Completed, 1.0), (8, 0.01, TrialStatus.Diverged, double.NaN),
            (16, 0.001, TrialStatus.Failed, double.NaN), (16, 0.01, TrialStatus.Running, double.NaN)]);
        var heatmap = StudyCharts.Heatmap(study);
        heatmap.Rows.Select(r => r.Name).ShouldBe(["width 8", "width 16"]);
        heatmap.Columns.ShouldBe(["0.001", "0.01"]);
        heatmap.Rows.Select(r => r.Values).ShouldBe([[1.0, StudyCharts.DivergedCell], [StudyCharts.FailedCell, StudyCharts.UnfinishedCell]]);
        heatmap.Label(StudyCharts.DivergedCell).ShouldBe("div");
        heatmap.Label(1.0).ShouldBe("1.000");
        // ledger-chart.js labels the named cells from the options' cellLabels, keyed by the value as JavaScript writes it.
        var options = JsonNode.Parse(ApexOptions.Json(heatmap))!;
        ((string?)options["ledger"]!["cellLabels"]!["-1"]).ShouldBe("div");
        ((double)options["series"]![1]!["data"]![0]!["y"]!).ShouldBe(StudyCharts.FailedCell);
    }

    [Fact]
    public void loss_against_rate_has_a_series_per_width_with_the_mean_over_seeds_at_each_rate()
    {
        var study = Study([(8, 0.001, TrialStatus.Completed, 1.0), (8, 0.001, TrialStatus.Completed, 0.8), (8, 0.01, TrialStatus.Completed, 0.7),
                           (16, 0.001, TrialStatus.Completed, 0.9)]);
        var series = StudyCharts.LossVsRate(study).Series;
        series.Select(s => s.Name).ShouldBe(["width 8", "width 16"]);
        var width8 = series[0].Points;
        width8.Count.ShouldBe(2);
        width8[0].X.ShouldBe(-3, 1e-9);
        width8[0].Y!.Value.ShouldBe(0.9, 1e-9);
    }

    [Fact]
    public void a_coordinate_check_with_a_width_cut_short_still_draws()
    {
        var check = new CoordinateCheckRecorded(Guid.NewGuid(), Guid.NewGuid(), "standard", null, 100, 3, ["hidden0", "output"],
            [new CoordinateCheckWidth(64, [[1.0, 2.0], [3.0, 4.0]]), new CoordinateCheckWidth(1024, [])], DateTimeOffset.UtcNow);
        var chart = Should.NotThrow(() => TrialCharts.CoordinateCheck(check));
        chart.Series.Select(s => s.Points.Count).ShouldBe([1, 1]);
        chart.X.Log.ShouldBeTrue();
    }

    internal static StudyView Study(IReadOnlyList<(int Width, double Rate, TrialStatus Status, double Loss)> trials) => new()
    {
        Id = Guid.NewGuid(), Name = "charts", Owner = "tester",
        Spec = new StudySpec("charts", "tester", "fashion-mnist", null, null, [0], 30, 32, 10, []),
        Trials = trials.Select((t, i) => new TrialView
        {
            TrialId = Guid.NewGuid(), Order = i, Width = t.Width, LearningRate = t.Rate, Status = t.Status,
            FinalEvalLoss = t.Status == TrialStatus.Completed ? t.Loss : null,
        }).ToList(),
    };

    private static LawFitted Fit(string law, string key, Dictionary<string, double> parameters, IReadOnlyList<FitPrediction> predictions) =>
        new(Guid.NewGuid(), Guid.NewGuid(), law, key, "form", parameters, true, null, 0.99,
            [new FitPoint(8, 1.0), new FitPoint(32, 0.8)], [], 1, "test", LawEngine.FitterVersion, DateTimeOffset.UtcNow, Predictions: predictions);
}

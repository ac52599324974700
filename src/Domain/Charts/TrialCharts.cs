using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Charts;

/// <summary>The charts of one trial and of one coordinate check. Pure: read models in, charts out.</summary>
public static class TrialCharts
{
    /// <summary>A trial's curve: train loss (mean since the previous checkpoint) and held-out eval loss against step.</summary>
    public static PlotChart LossCurve(TrialView trial)
    {
        var set = new SeriesSet();
        set.Line("train loss", "#2e5bba", trial.Checkpoints.Select(c => ((double)c.Step, c.TrainLoss)), 2, 0, 4);
        set.Line("eval loss (held-out)", "#d9480f", trial.Checkpoints.Select(c => ((double)c.Step, c.EvalLoss)), 2, 0, 4);
        return set.Chart(new ChartAxis("step"), new ChartAxis("loss", Decimals: 3), "No checkpoint yet.", 320);
    }

    /// <summary>
    /// A coordinate check: mean |output| of each layer after the last step against width (both on log scales).
    /// Flat lines are what muP promises; lines rising with width are the standard parametrization's.
    /// </summary>
    public static PlotChart CoordinateCheck(CoordinateCheckRecorded check)
    {
        var set = new SeriesSet();
        for (var i = 0; i < check.Layers.Count; i++)
        {
            var layer = i;
            set.Line(check.Layers[i], ChartStyle.Color(i), check.Widths
                .Where(w => w.MeanAbsActivation.Count > 0 && layer < w.MeanAbsActivation[^1].Count && double.IsFinite(w.MeanAbsActivation[^1][layer]))
                .Select(w => (Math.Log10(w.Width), Math.Log10(Math.Max(w.MeanAbsActivation[^1][layer], 1e-12)))), 2, 0, 5);
        }
        var ticks = Math.Max(1, check.Widths.Count - 1);
        return set.Chart(new ChartAxis("width (log scale)", Log: true, Ticks: ticks, Name: "width"),
            new ChartAxis($"mean |output| after step {check.Steps} (log scale)", Log: true), "No width has been measured.", 300);
    }
}

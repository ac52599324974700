using System.Globalization;
using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// What a deviation (an observation outside its prediction's 95% interval) means, in sentences a researcher can act on:
/// which way it missed and by how much, and, for a claim at a fixed or supplied learning rate, where the optimal-LR law
/// puts the best rate at that width against the rate the claim assumed (the usual cause, after Metz: a rate that was
/// right for the small models is too high or too low for the wide one).
/// </summary>
public static class DeviationExplanation
{
    /// <summary>A rate within this factor of the optimum counts as tuned (the grid is usually spaced by about 3x).</summary>
    public const double TunedFactor = 1.5;

    public static IReadOnlyList<string> Explain(PredictionIssued prediction, PredictionResolved resolution, LawFitted? optimalLr)
    {
        var lines = new List<string>();
        var width = prediction.Width.ToString("G6", CultureInfo.InvariantCulture);
        if (resolution.Observed is not { } observed)
        {
            lines.Add($"Every trial at width {width} diverged: the law predicted a finite loss of {N(prediction.Predicted)} where training blew up. " +
                      "The rate is too high for this width; a law fitted at a fixed rate cannot see that coming.");
        }
        else
        {
            var above = observed > prediction.Upper;
            var off = above ? observed - prediction.Upper : prediction.Lower - observed;
            lines.Add($"Observed {N(observed)} at width {width}, {(above ? "above" : "below")} the 95% interval [{N(prediction.Lower)}, {N(prediction.Upper)}] " +
                      $"by {N(off)} (z = {(resolution.ZScore is { } z ? z.ToString("F1", CultureInfo.InvariantCulture) : "–")}). " +
                      (above
                          ? "The wide model did worse than the law extrapolated: typical of a mistuned rate, or of a law that stops holding."
                          : "The wide model did better than the law extrapolated: the law was pessimistic (the small widths may have been mistuned, or the floor E is too high)."));
        }

        if (prediction.LearningRate is { } assumed && assumed > 0)
        {
            if (optimalLr is { Converged: true } law && LawRegistry.OptimalLr.Evaluate(law.Parameters, prediction.Width) is { } best && best > 0)
            {
                var ratio = assumed / best;
                var d = law.Parameters.GetValueOrDefault("d");
                var where = $"The optimal-LR law (d = {d.ToString("F2", CultureInfo.InvariantCulture)}) puts the best rate at width {width} at {N(best)}; " +
                            $"this prediction assumed {N(assumed)}, ";
                lines.Add(ratio > TunedFactor
                    ? where + $"{ratio.ToString("F1", CultureInfo.InvariantCulture)}x too high. Look at the wider widths' rows in the heatmap: the rate " +
                      "that was best for the small models sits past the valley here, so this curve's wide points are not at their best."
                    : ratio < 1 / TunedFactor
                        ? where + $"{(1 / ratio).ToString("F1", CultureInfo.InvariantCulture)}x too low. The wide model is under-trained at this rate; " +
                          "a sweep that tuned each width would do better."
                        : where + "close to the optimum. The rate is not the cause: look at the spread across seeds at this width, the " +
                          "number of steps (wide models may need longer), and whether the law's form still fits the widths beside it.");
            }
            else
            {
                lines.Add($"This prediction assumed learning rate {N(assumed)}; the optimal-LR law is not fitted, so whether that rate is still right at width {width} is unknown.");
            }
        }
        return lines;
    }

    private static string N(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}

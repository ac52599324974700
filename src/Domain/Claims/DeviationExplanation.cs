using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Claims;

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

    /// <param name="fitWidths">The widths the prediction's fit was fitted on (its points' x).</param>
    public static IReadOnlyList<string> Explain(PredictionIssued prediction, PredictionResolved resolution, LawFitted? optimalLr, IEnumerable<double> fitWidths)
    {
        var censored = PredictionResolution.IsCensored(resolution);
        var observedAbove = resolution.Observed is not { } seen || (censored
            ? resolution.ObservedAtLeast is { } least && least > prediction.Upper
            : seen > prediction.Upper);
        var lines = new List<string>();
        var width = Numbers.Width(prediction.Width);
        if (censored)
        {
            lines.Add($"The grid did not pin width {width}'s value down: it lies " +
                      $"{PredictionResolution.Range(resolution.ObservedAtLeast, resolution.ObservedAtMost)}, and the whole 95% interval " +
                      $"[{N(prediction.Lower)}, {N(prediction.Upper)}] lies {(observedAbove ? "below" : "above")} that. " +
                      "Even without the exact value the claim is wrong; rates beyond the grid's edge would say by how much.");
        }
        else if (resolution.Observed is not { } observed)
        {
            lines.Add($"Every trial at width {width} diverged: the law predicted a finite loss of {N(prediction.Predicted)} where training blew up. " +
                      "The rate is too high for this width; a law fitted at a fixed rate cannot see that coming.");
        }
        else
        {
            var above = observed > prediction.Upper;
            var off = above ? observed - prediction.Upper : prediction.Lower - observed;
            lines.Add($"Observed {N(observed)} at width {width}, {(above ? "above" : "below")} " +
                      $"the 95% interval [{N(prediction.Lower)}, {N(prediction.Upper)}] " +
                      $"by {N(off)} (z = {Numbers.Fixed(resolution.ZScore, 1)}). " +
                      (above
                          ? "The wide model did worse than the law extrapolated: typical of a mistuned rate, or of a law that stops holding."
                          : "The wide model did better than the law extrapolated: the law was pessimistic " +
                            "(the small widths may have been mistuned, or the floor E is too high)."));
        }

        if (prediction.LearningRate is { } assumed && assumed > 0)
        {
            if (optimalLr is { Converged: true } law && OptimalLrLaw.BestRate(law.Parameters, prediction.Width) is var best && best > 0)
            {
                var d = OptimalLrLaw.SlopeOf(law.Parameters) ?? 0;
                var ratio = assumed / best;
                var where = $"The optimal-LR law (d = {Numbers.Fixed(d, 2)}) puts the best rate at width {width} at {N(best)}; " +
                            $"this prediction assumed {N(assumed)}, " +
                            (ratio > TunedFactor ? $"{F(ratio)}x too high" : ratio < 1 / TunedFactor ? $"{F(1 / ratio)}x too low" : "close to the optimum");
                // How far from its best the rate was where the law was fitted, against here: a law fitted at one rate carries the
                // mistuning of its evidence widths into its extrapolation.
                var fitted = fitWidths.Where(w => w > 0).DefaultIfEmpty(0).Max();
                if (fitted > 0 && OptimalLrLaw.BestRate(law.Parameters, fitted) is var bestThere && bestThere > 0)
                {
                    var there = Math.Abs(Math.Log(assumed / bestThere));
                    var here = Math.Abs(Math.Log(ratio));
                    var fittedWidth = Numbers.Width(fitted);
                    if (here > there + Math.Log(TunedFactor) / 2)
                        lines.Add(where + $", further from its best than at width {fittedWidth}, " +
                                  $"the widest the law was fitted on ({F(Math.Exp(there))}x off there). " +
                                  "The fixed-rate law extrapolates a rate that drifts away from the optimum as width grows: " +
                                  "the wide model does worse than the line, " +
                                  (observedAbove
                                      ? "as observed. Tune the rate per width (the tuned frontier) before trusting this law's extrapolation."
                                      : "yet it did better: the rate does not explain this deviation."));
                    else if (here < there - Math.Log(TunedFactor) / 2)
                        lines.Add(where + $", closer to its best than at width {fittedWidth}, " +
                                  $"the widest the law was fitted on ({F(Math.Exp(there))}x off there). " +
                                  "The rate drifts towards the optimum as width grows, " +
                                  "so the wide model does better than the line fitted where the rate was worse, " +
                                  (observedAbove
                                      ? "yet it did worse: the rate does not explain this deviation."
                                      : "as observed. The small widths were mistuned: the tuned frontier is the law to extrapolate."));
                    else
                        lines.Add(where + $", about as far from its best as at width {fittedWidth}, the widest the law was fitted on. " +
                                  "The rate is not the cause: look at the spread " +
                                  "across seeds at this width, the number of steps (wide models may need longer), " +
                                  "and whether the law's form still fits the widths beside it.");
                }
                else lines.Add(where + ".");
            }
            else
            {
                lines.Add($"This prediction assumed learning rate {N(assumed)}; the optimal-LR law is not fitted, " +
                    $"so whether that rate is still right at width {width} is unknown.");
            }
        }
        return lines;
    }

    private static string F(double v) => Numbers.Fixed(v, 1);

    private static string N(double v) => Numbers.Format(v, 4);
}

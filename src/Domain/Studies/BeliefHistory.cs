using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Domain.Studies;

/// <summary>How a study's beliefs moved as evidence arrived: its predictions per point and the optimal-LR slope per fit.</summary>
public sealed record BeliefHistoryView(IReadOnlyList<BeliefSeries> Predictions, IReadOnlyList<SlopePoint> OptimalLrSlope);

/// <summary>
/// One (law, key, width): every credible prediction issued there, in issue order, and the observed value once resolved.
/// </summary>
/// <param name="AtLearningRate">The rate the claims are at, for a law of the rate too (null: the key's rate, or the best rate).</param>
/// <param name="Reason">Why the point was predicted (<c>planned</c> or <c>target</c>; both, comma-separated, if it changed).</param>
/// <param name="Observed">The observed value; null while unresolved, or when every trial there diverged.</param>
/// <param name="ObservedAtSequence">The sequence of the observation; null while unresolved.</param>
/// <param name="ObservedAtEvidence">The evidence count at the observation; null while unresolved.</param>
public sealed record BeliefSeries(
    string Law, string Key, double Width, double? AtLearningRate, string Reason, IReadOnlyList<BeliefPoint> Points, double? Observed, long? ObservedAtSequence,
    int? ObservedAtEvidence);

/// <summary>One prediction of a series: what the fit believed with the evidence it had.</summary>
/// <param name="Evidence">Trials ended (completed or diverged) at the fit's evidence sequence.</param>
/// <param name="Sequence">The sequence of the PredictionIssued.</param>
public sealed record BeliefPoint(int Evidence, long Sequence, double Predicted, double Lower, double Upper, Guid PredictionId);

/// <summary>The optimal-LR law's slope d (ln lr* = c + d ln h) with its bootstrap interval, per fit.</summary>
/// <param name="Evidence">Trials ended (completed or diverged) at the fit's evidence sequence.</param>
/// <param name="Sequence">The sequence of the LawFitted.</param>
public sealed record SlopePoint(int Evidence, long Sequence, double Value, double? Lower, double? Upper, bool Credible);

public static class BeliefHistory
{
    /// <summary>
    /// The study's belief history. Evidence at a sequence is the number of trials (completed or diverged) whose
    /// <see cref="TrialView.EndedSequence"/> is at or before it; a prediction or fit is placed at its fit's evidence
    /// sequence (what the fit saw), or at its own sequence where the fit recorded none. Predictions of the fits in
    /// <paramref name="notCredibleFitIds"/> are left out; the slope keeps every converged fit, marked credible or not.
    /// </summary>
    /// <param name="optimalLrFits">
    /// The optimal-LR fits with the sequences they were recorded at (other laws and unconverged fits are skipped): the study's
    /// history, as the trials' and predictions' sequences and each fit's evidence sequence speak it (never this ledger's
    /// positions, which differ for a study moved here).
    /// </param>
    public static BeliefHistoryView Build(IReadOnlyList<TrialView> trials, IReadOnlyList<PredictionView> predictions,
        IReadOnlyList<(LawFitted Fit, RecordedSequence Sequence)> optimalLrFits, IReadOnlySet<Guid> notCredibleFitIds, LawRegistry? laws = null)
    {
        var ended = trials.Where(t => t.Status is TrialStatus.Completed or TrialStatus.Diverged && t.EndedSequence is not null)
            .Select(t => t.EndedSequence!.Value).Order().ToArray();
        int EvidenceAt(long sequence) => UpperBound(ended, sequence);

        var series = predictions.Where(p => !notCredibleFitIds.Contains(p.Issued.FitId))
            .GroupBy(p => (p.Issued.Law, p.Issued.Key, p.Issued.Width, p.Issued.AtLearningRate))
            .Select(g =>
            {
                var issued = g.OrderBy(p => p.IssuedSequence).ToList();
                var resolution = issued.Select(p => p.Resolution).Where(r => r is not null).OrderBy(r => r!.ObservedAtSequence).FirstOrDefault();
                return new BeliefSeries(g.Key.Law, g.Key.Key, g.Key.Width, g.Key.AtLearningRate,
                    string.Join(", ", issued.Select(p => p.Issued.Reason).Distinct()),
                    issued.Select(p => new BeliefPoint(EvidenceAt(p.Issued.EvidenceSequence > 0 ? p.Issued.EvidenceSequence : p.IssuedSequence),
                        p.IssuedSequence, p.Issued.Predicted, p.Issued.Lower, p.Issued.Upper, p.Id)).ToList(),
                    // A censored observation is a range, not a point to draw: its claims' verdicts say how they did.
                    resolution is null || Claims.PredictionResolution.IsCensored(resolution) ? null : resolution.Observed, resolution?.ObservedAtSequence,
                    resolution is null ? null : EvidenceAt(resolution.ObservedAtSequence));
            })
            .InLawOrder(s => (s.Law, s.Key), laws)
            .ThenBy(s => s.Width).ThenBy(s => s.AtLearningRate ?? 0)
            .ToList();

        var slope = optimalLrFits
            .Select(f => (f.Fit, f.Sequence, Slope: OptimalLrLaw.Slope(f.Fit)))
            .Where(f => f.Slope is not null)
            .OrderBy(f => f.Sequence)
            .Select(f => new SlopePoint(EvidenceAt(f.Fit.EvidenceSequence > 0 ? f.Fit.EvidenceSequence : f.Sequence.Value), f.Sequence.Value,
                f.Slope!.Value, f.Slope.Lower, f.Slope.Upper, !notCredibleFitIds.Contains(f.Fit.FitId)))
            .ToList();
        return new BeliefHistoryView(series, slope);
    }

    /// <summary>How many of the ascending <paramref name="sorted"/> are at most <paramref name="value"/>.</summary>
    private static int UpperBound(long[] sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (sorted[mid] <= value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}

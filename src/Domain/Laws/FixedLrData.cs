using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>One learning rate's completed trials: mean loss per width and the losses by seed for resampling.</summary>
internal sealed record FixedLrData(
    double LearningRate, double[] Widths, double[] Means, double[][] Losses, List<FitPoint> Points, List<Guid> Evidence,
    string? DivergedMessage)
{
    public string Key => LawKeys.Rate(LearningRate);

    /// <summary>Every width has at least two seeds: resample seeds within widths; otherwise resample widths.</summary>
    public bool BySeed => Losses.All(l => l.Length >= 2);

    public string BootstrapMethod => BySeed ? LawFitting.SeedsMethod : LawFitting.PointsMethod;

    public Func<Random, Sample> Resampler() => BySeed
        ? random => new Sample(Widths, Losses.Select(l => Bootstrap.ResampledMean(l, random)).ToArray(), null)
        : random => new Sample(Widths, Means, Bootstrap.PointWeights(Widths.Length, random));

    /// <summary>Each learning rate's data over the trials with a width (imported runs may have none).</summary>
    public static IEnumerable<FixedLrData> Of(IEnumerable<TrialView> trials)
    {
        foreach (var byLr in trials.Where(t => t.Width >= 1).GroupBy(t => t.LearningRate).OrderBy(g => g.Key))
        {
            var completed = byLr.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l))
                .OrderBy(t => t.Order).ToList();
            var cells = completed.GroupBy(t => t.Width).OrderBy(g => g.Key)
                .Select(g => (Width: g.Key, Losses: g.OrderBy(t => t.Seed).Select(t => t.FinalEvalLoss!.Value).ToArray()))
                .ToList();
            var diverged = byLr.Count(t => t.Status == TrialStatus.Diverged);
            var ended = cells.Select(c => c.Width).ToHashSet();
            var holes = byLr.Where(t => t.Status is TrialStatus.Failed or TrialStatus.Cancelled && !ended.Contains(t.Width)
                    && byLr.Where(u => u.Width == t.Width).All(u => u.Status != TrialStatus.Diverged))
                .Select(t => t.Width).Distinct().Order().ToList();
            yield return new FixedLrData(
                byLr.Key,
                cells.Select(c => (double)c.Width).ToArray(),
                cells.Select(c => c.Losses.Average()).ToArray(),
                cells.Select(c => c.Losses).ToArray(),
                cells.Select(c => new FitPoint(c.Width, c.Losses.Average())).ToList(),
                completed.Select(t => t.TrialId).ToList(),
                LawFitting.Join(diverged > 0 ? $"{diverged} diverged trial(s) at this learning rate are not on the curve." : null,
                    holes.Count > 0 ? $"No result at width(s) {string.Join(", ", holes)} (failed or cancelled trials): the curve has a hole there." : null));
        }
    }
}

/// <summary>The laws fitted per learning rate over the mean final loss of completed trials at each width (Metz's naive laws).</summary>
public abstract class FixedLrLaw(LawTerms terms) : Law(terms)
{
    public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, LawPoint point) =>
        LawKeys.RateOf(key) is { } rate ? Observation.OfCell(atWidth.Where(t => t.LearningRate == rate).ToList()) : null;

    public override double? LearningRateAt(LawFitted fit, LawPoint point, LawFitted? optimalLr) => LawKeys.RateOf(fit.Key);

    public override IEnumerable<LawCurve> Curves(LawFitted fit) =>
        [new LawCurve($"{Name} lr {Numbers.Format(LawKeys.RateOf(fit.Key) ?? double.NaN)}", LawKeys.RateOf(fit.Key), null,
            h => Evaluate(fit.Parameters, new LawPoint(h)))];

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options) =>
        FixedLrData.Of(trials).Where(lr => lr.Points.Count >= MinimumWidths)
            .Select(lr => new LawCandidate(Name, lr.Key, lr.Evidence, lr.Points, () => Fit(lr, options)));

    /// <summary>The widths a rate's curve needs before this law is fitted to it.</summary>
    internal abstract int MinimumWidths { get; }

    internal abstract LawFitted Fit(FixedLrData lr, FitOptions options);
}

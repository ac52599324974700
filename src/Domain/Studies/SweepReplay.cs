using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// A finished sweep's outcomes replayed through the ledger's pure decisions, as the Server records them: the grid is planned,
/// its trials end in the planned order (ascending width), and the reactor decides after each end (resolving, refitting,
/// predicting). What the ledger would have believed at every step of a real sweep, without training it again: the tests and
/// the calibration benchmark replay recorded real sweeps this way.
/// </summary>
public static class SweepReplay
{
    /// <summary>How one trial of the sweep ended: a final loss, or a divergence.</summary>
    public sealed record Outcome(int Width, double LearningRate, int Seed, bool Diverged, double? Loss);

    public static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The study of the outcomes' grid, with target widths at twice and four times its widest.</summary>
    public static StudyDefined Plan(IReadOnlyList<Outcome> outcomes, string name, string parameterization = "standard")
    {
        var widths = outcomes.Select(o => o.Width).Distinct().Order().ToList();
        var spec = GridPlanner.Normalize(new StudySpec(name, "replay", "fashion-mnist",
            new ModelSpec("mlp", 3, widths, parameterization, parameterization == "mup" ? widths[0] : null),
            new OptimizerSpec("adam", outcomes.Select(o => o.LearningRate).Distinct().Order().ToList()),
            outcomes.Select(o => o.Seed).Distinct().Order().ToList(), 1500, 128, 250, [2 * widths[^1], 4 * widths[^1]]));
        // Ids derived from the name: the same sweep replays to the same study, and sweeps of other names pool apart.
        var study = new Guid(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(name)));
        var ids = 0;
        Guid NewId() => new(Interlocked.Increment(ref ids), 1, 1, study.ToByteArray()[..8]);
        return new StudyDefined(study, spec, GridPlanner.Plan(spec, NewId), "replay", At);
    }

    /// <summary>
    /// Replays the sweep; <paramref name="laws"/> restricts which laws the reactor fits (null: all). Returns the study as the
    /// ledger would hold it at the end, every fit and prediction of the way included; <paramref name="decided"/> sees each
    /// event the reactor decided (every fit, where the view keeps the latest).
    /// </summary>
    public static StudyView Run(IReadOnlyList<Outcome> outcomes, string name, FitOptions options, string parameterization = "standard",
        Func<Law, bool>? laws = null, Action<object>? decided = null)
    {
        var defined = Plan(outcomes, name, parameterization);
        var folder = new StudyFolder();
        long sequence = 0;
        folder.Apply(defined, new RecordedSequence(++sequence));
        var ids = 1_000_000;
        Guid NewId() => new(Interlocked.Increment(ref ids), 2, 2, new byte[8]);
        foreach (var t in defined.Trials.OrderBy(t => t.Order))
        {
            var o = outcomes.First(x => x.Width == t.Width && x.LearningRate == t.LearningRate && x.Seed == t.Seed);
            folder.Apply(o.Diverged || o.Loss is null
                ? new TrialDiverged(defined.StudyId, t.TrialId, 1, "diverged in the recording", At)
                : new TrialCompleted(defined.StudyId, t.TrialId, o.Loss.Value, 0, 0, 0, At), new RecordedSequence(++sequence));
            var view = folder.View;
            var state = new EvidenceState(view, view.Trials, view.LatestFits, view.Predictions.Where(p => p.Resolution is null).ToList(),
                new RecordedSequence(view.LastSequence));
            foreach (var e in EvidenceDecider.Decide(state, NewId, At, options, laws))
            {
                decided?.Invoke(e);
                folder.Apply(e, new RecordedSequence(++sequence));
            }
        }
        return folder.View;
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Studies;

public enum StudyStatus { Running, Completed, Cancelled }

public enum TrialStatus { Scheduled, Running, Completed, Diverged, Failed, Cancelled }

/// <summary>
/// The read model of one study and its trials, folded from the study's events by <see cref="StudyProjection"/>.
/// Stored as a document; the same fold rebuilds it as of any earlier event sequence.
/// </summary>
public sealed class StudyView
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Owner { get; set; } = "";
    public StudySpec? Spec { get; set; }
    /// <summary><c>trained</c> (a sweep this ledger runs) or <c>imported</c> (runs trained elsewhere, from a CSV).</summary>
    public string Source { get; set; } = "trained";
    public StudyStatus Status { get; set; }
    public DateTimeOffset DefinedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public string? CancelledBy { get; set; }
    /// <summary>The global sequence of the last event folded into this view.</summary>
    public long LastSequence { get; set; }
    public List<TrialView> Trials { get; set; } = [];
    /// <summary>The newest fit of each (law, key).</summary>
    public List<LawFitted> LatestFits { get; set; } = [];
    public int FitCount { get; set; }
    /// <summary>Every prediction the study's fits issued, oldest first, with its resolution once observed.</summary>
    public List<PredictionView> Predictions { get; set; } = [];

    /// <summary>Per law: the share of resolved predictions that fell inside their 95% intervals.</summary>
    public IReadOnlyList<LawCalibration> Calibration =>
        Laws.Calibration.PerLaw(Predictions.Where(p => p.Resolution is not null)
            .Select(p => (p.Issued.Law, new ResolvedPrediction(p.Resolution!.Residual ?? double.NaN, p.Resolution.ZScore ?? double.NaN, p.Resolution.Inside))));

    /// <summary>Coordinate checks run for this study's model, oldest first.</summary>
    public List<CoordinateCheckRecorded> CoordinateChecks { get; set; } = [];

    public TrialView? Trial(Guid trialId) => Trials.Find(t => t.TrialId == trialId);

    public IReadOnlyDictionary<TrialStatus, int> CountsByStatus() =>
        Enum.GetValues<TrialStatus>().ToDictionary(s => s, s => Trials.Count(t => t.Status == s));
}

public sealed class TrialView
{
    public Guid TrialId { get; set; }
    public int Order { get; set; }
    public int Width { get; set; }
    public double LearningRate { get; set; }
    public int Seed { get; set; }
    public TrialStatus Status { get; set; }
    public int Attempt { get; set; }
    public string? WorkerId { get; set; }
    public string? HostName { get; set; }
    public int? Threads { get; set; }
    public string? CodeVersion { get; set; }
    public string? LibTorchVersion { get; set; }
    public IReadOnlyDictionary<string, string>? DatasetSha256 { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public List<CheckpointView> Checkpoints { get; set; } = [];
    public double? FinalEvalLoss { get; set; }
    public double? FinalEvalAccuracy { get; set; }
    public long? ParameterCount { get; set; }
    public double? DurationSeconds { get; set; }
    /// <summary>Imported runs: parameter count and training tokens, where the CSV gave them.</summary>
    public double? Params { get; set; }
    public double? Tokens { get; set; }
    public int? EndedAtStep { get; set; }
    public string? Reason { get; set; }
    /// <summary>A failed trial's whole exception, where the trainer sent it.</summary>
    public string? FailureDetail { get; set; }
    /// <summary>Attempts that failed with an error and were run again, oldest first.</summary>
    public List<FailedAttemptView> FailedAttempts { get; set; } = [];

    public bool IsTerminal => Status is TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed or TrialStatus.Cancelled;
}

public sealed record FailedAttemptView(int Attempt, string Error, string? Detail, DateTimeOffset FailedAt);

public sealed record CheckpointView(int Step, double TrainLoss, double EvalLoss, double EvalAccuracy);

public sealed class PredictionView
{
    public required PredictionIssued Issued { get; set; }
    public PredictionResolved? Resolution { get; set; }
    public bool IsDeviation => Resolution is { Inside: false };
}

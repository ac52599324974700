namespace ScalingLedger.Domain.Studies;

public enum TrialStatus { Scheduled, Running, Completed, Diverged, Failed, Cancelled }

/// <summary>One trial of a study: a document of its own (plan, status, attempts, provenance, checkpoints, result).</summary>
public sealed class TrialView
{
    public Guid TrialId { get; set; }
    public Guid StudyId { get; set; }
    public int Order { get; set; }
    public int Width { get; set; }
    public double LearningRate { get; set; }
    public int Seed { get; set; }
    public TrialStatus Status { get; set; }
    public int Attempt { get; set; }
    /// <summary>The run of the attempt that counts (null for trials started by trainers before runs were named).</summary>
    public Guid? RunId { get; set; }
    /// <summary>Every run that was recorded as an attempt of this trial, oldest first.</summary>
    public List<Guid> Runs { get; set; } = [];
    public string? WorkerId { get; set; }
    public string? HostName { get; set; }
    public int? Threads { get; set; }
    public string? CodeVersion { get; set; }
    public string? LibTorchVersion { get; set; }
    public IReadOnlyDictionary<string, string>? DatasetSha256 { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    /// <summary>The global sequence of the event that ended the trial.</summary>
    public long? EndedSequence { get; set; }
    /// <summary>The global sequence of the last event folded into this document.</summary>
    public long LastSequence { get; set; }
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

    /// <summary>A copy of this trial's fields (its lists shared): to change a trial that others read, change a copy.</summary>
    public TrialView Copy() => (TrialView)MemberwiseClone();

    public bool IsTerminal => Ends(Status);

    /// <summary>Whether a trial in this status has ended (it will record nothing more).</summary>
    public static bool Ends(TrialStatus status) => status is TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed or TrialStatus.Cancelled;
}

public sealed record FailedAttemptView(int Attempt, string Error, string? Detail, DateTimeOffset FailedAt);

public sealed record CheckpointView(int Step, double TrainLoss, double EvalLoss, double EvalAccuracy);

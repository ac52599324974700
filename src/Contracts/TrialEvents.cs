namespace ScalingLedger.Contracts;

// Reports a trainer sends about a trial. The Server appends each to the study's stream once,
// so these records are both messages (trainer -> Server) and events (the ledger's schema).

/// <summary>A trainer began a trial. <see cref="Attempt"/> counts deliveries of the RunTrial command.</summary>
public sealed record TrialStarted(
    Guid StudyId,
    Guid TrialId,
    int Attempt,
    string WorkerId,
    string HostName,
    int Threads,
    string TorchSharpVersion,
    DateTimeOffset StartedAt);

/// <summary>Losses at a checkpoint: train loss averaged since the previous checkpoint, eval on the held-out subset.</summary>
public sealed record LossCheckpointRecorded(
    Guid StudyId,
    Guid TrialId,
    int Step,
    double TrainLoss,
    double EvalLoss,
    double EvalAccuracy,
    DateTimeOffset RecordedAt);

/// <summary>A trial finished all its steps; final figures are on the full test set.</summary>
public sealed record TrialCompleted(
    Guid StudyId,
    Guid TrialId,
    double FinalEvalLoss,
    double FinalEvalAccuracy,
    long ParameterCount,
    double DurationSeconds,
    DateTimeOffset CompletedAt);

/// <summary>The loss stopped being usable (non-finite or exploded) at <see cref="Step"/>.</summary>
public sealed record TrialDiverged(Guid StudyId, Guid TrialId, int Step, string Reason, DateTimeOffset DivergedAt);

/// <summary>The trial could not run (an error in the trainer, not a property of the learning rate).</summary>
public sealed record TrialFailed(Guid StudyId, Guid TrialId, string Error, DateTimeOffset FailedAt);

/// <summary>The trial ended because its study was cancelled.</summary>
public sealed record TrialCancelled(Guid StudyId, Guid TrialId, int? AtStep, DateTimeOffset CancelledAt);

namespace ScalingLedger.Contracts;

// Reports a trainer sends about a trial. The Server appends each to the study's stream once,
// so these records are both messages (trainer -> Server) and events (the ledger's schema).

/// <summary>
/// A trainer began a trial. <see cref="Attempt"/> counts the trial's runs: as a report it is the attempt the command
/// asked for; the Server records each new run (<see cref="RunId"/>) as the attempt after the trial's latest, whatever
/// the command said (a redelivered command is a new attempt). The rest is provenance: where it ran, with which threads,
/// library and code versions, and on exactly which data files. <see cref="RunId"/> came later (absent in events and
/// from trainers before it): one per delivery of the command, carried by every report of that run.
/// </summary>
public sealed record TrialStarted(
    Guid StudyId,
    Guid TrialId,
    int Attempt,
    string WorkerId,
    string HostName,
    int Threads,
    string TorchSharpVersion,
    DateTimeOffset StartedAt,
    string? LibTorchVersion = null,
    string? CodeVersion = null,
    IReadOnlyDictionary<string, string>? DatasetSha256 = null,
    Guid? RunId = null) : ITrialReport, ITrainerReport
{
    DateTimeOffset IStudyEvent.OccurredAt => StartedAt;
}

/// <summary>
/// Losses at a checkpoint: train loss averaged since the previous checkpoint, eval on the held-out subset.
/// <see cref="Attempt"/> came later (absent before it, and in reports): the attempt the Server recorded it for.
/// </summary>
public sealed record LossCheckpointRecorded(
    Guid StudyId,
    Guid TrialId,
    int Step,
    double TrainLoss,
    double EvalLoss,
    double EvalAccuracy,
    DateTimeOffset RecordedAt,
    int? Attempt = null) : ITrialReport, ITrainerReport
{
    DateTimeOffset IStudyEvent.OccurredAt => RecordedAt;
}

/// <summary>
/// Several checkpoints of one trial in one message (a message only, never stored: the Server records each checkpoint as
/// its own <see cref="LossCheckpointRecorded"/> event, in one transaction). Trainers send checkpoints this way so that a
/// study checkpointing every step does not cost the ledger a transaction per step.
/// </summary>
public sealed record LossCheckpointsRecorded(Guid StudyId, Guid TrialId, IReadOnlyList<LossCheckpointRecorded> Checkpoints) : ITrainerReport;

/// <summary>A trial finished all its steps; final figures are on the full test set.</summary>
public sealed record TrialCompleted(
    Guid StudyId,
    Guid TrialId,
    double FinalEvalLoss,
    double FinalEvalAccuracy,
    long ParameterCount,
    double DurationSeconds,
    DateTimeOffset CompletedAt) : ITrialEnd, ITrainerReport
{
    DateTimeOffset IStudyEvent.OccurredAt => CompletedAt;
}

/// <summary>The loss stopped being usable (non-finite or exploded) at <see cref="Step"/>.</summary>
public sealed record TrialDiverged(Guid StudyId, Guid TrialId, int Step, string Reason, DateTimeOffset DivergedAt) : ITrialEnd, ITrainerReport
{
    DateTimeOffset IStudyEvent.OccurredAt => DivergedAt;
}

/// <summary>
/// The trial could not run (an error in the trainer, not a property of the learning rate). As a report it names the
/// attempt that failed; the Server records it as this (terminal) event once the trial has used its attempts, and as
/// <see cref="TrialAttemptFailed"/> before that. <see cref="Error"/> is the first line; the trailing fields came later
/// and are absent (null) in events recorded before them: the attempt, and the whole exception (type, native message,
/// managed and native stacks, inner exceptions) so that a failure can be diagnosed from the ledger alone.
/// </summary>
public sealed record TrialFailed(Guid StudyId, Guid TrialId, string Error, DateTimeOffset FailedAt, int? Attempt = null, string? Detail = null)
    : ITrialEnd, ITrainerReport
{
    DateTimeOffset IStudyEvent.OccurredAt => FailedAt;
}

/// <summary>
/// One attempt of a trial failed with an error that is not the model's (an exception, not a divergence); the trial is
/// run again as a new attempt. The failure stays in the ledger with the whole exception.
/// </summary>
public sealed record TrialAttemptFailed(Guid StudyId, Guid TrialId, int Attempt, string Error, string? Detail, DateTimeOffset FailedAt) : ITrialReport
{
    DateTimeOffset IStudyEvent.OccurredAt => FailedAt;
}

/// <summary>The trial ended because its study was cancelled.</summary>
public sealed record TrialCancelled(Guid StudyId, Guid TrialId, int? AtStep, DateTimeOffset CancelledAt) : ITrialEnd, ITrainerReport
{
    DateTimeOffset IStudyEvent.OccurredAt => CancelledAt;
}

/// <summary>
/// A coordinate check (Yang et al. 2022): mean |activation| of each layer's output over the first training steps,
/// at each width. Flat across widths is what muP promises; growth with width is the standard parametrization's.
/// </summary>
public sealed record CoordinateCheckRecorded(
    Guid StudyId,
    Guid CheckId,
    string Parameterization,
    int? BaseWidth,
    double LearningRate,
    int Steps,
    IReadOnlyList<string> Layers,
    IReadOnlyList<CoordinateCheckWidth> Widths,
    DateTimeOffset RecordedAt) : IStudyEvent, ITrainerReport
{
    DateTimeOffset IStudyEvent.OccurredAt => RecordedAt;
}

/// <summary>One width of a coordinate check: <c>MeanAbsActivation[step][layer]</c>, step 0 before any update.</summary>
public sealed record CoordinateCheckWidth(int Width, IReadOnlyList<IReadOnlyList<double>> MeanAbsActivation);

/// <summary>
/// A coordinate check was asked for (came later: checks recorded before it have no request). Its result, or its failure,
/// must name this check: a result nobody asked for is refused.
/// </summary>
public sealed record CoordinateCheckRequested(
    Guid StudyId, Guid CheckId, IReadOnlyList<int> Widths, double LearningRate, int Steps, int BatchSize, string RequestedBy,
    DateTimeOffset RequestedAt) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => RequestedAt;
}

/// <summary>
/// A coordinate check could not run (came later: before it, a check that threw recorded nothing). <see cref="Error"/> is the
/// first line of what went wrong.
/// </summary>
public sealed record CoordinateCheckFailed(Guid StudyId, Guid CheckId, string Error, DateTimeOffset FailedAt) : IStudyEvent, ITrainerReport
{
    DateTimeOffset IStudyEvent.OccurredAt => FailedAt;
}

/// <summary>
/// A trainer is still running a trial (a message only, never stored): sent every few seconds while it trains, so the
/// Server can tell a long trial from a dead trainer (see the Server's trial leases).
/// </summary>
public sealed record TrialHeartbeat(Guid StudyId, Guid TrialId, Guid RunId, string WorkerId, DateTimeOffset At) : ITrainerReport;

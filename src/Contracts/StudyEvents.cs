namespace ScalingLedger.Contracts;

// Events of a study stream. Names are the storage schema: never rename them.

/// <summary>A study was defined and its whole grid planned, in the order the trials will run.</summary>
public sealed record StudyDefined(
    Guid StudyId,
    StudySpec Spec,
    IReadOnlyList<PlannedTrial> Trials,
    string DefinedBy,
    DateTimeOffset DefinedAt);

/// <summary>Someone stopped the study: queued trials never start, the running one stops.</summary>
public sealed record StudyCancelled(Guid StudyId, string CancelledBy, string? Reason, DateTimeOffset CancelledAt);

/// <summary>Every trial of the study reached an end state.</summary>
public sealed record StudyCompleted(Guid StudyId, DateTimeOffset CompletedAt);

/// <summary>
/// A law was fitted to the evidence the study held at <see cref="EvidenceSequence"/>.
/// <see cref="Key"/> distinguishes fits of one law (for example the learning rate of a fixed-LR law).
/// </summary>
public sealed record LawFitted(
    Guid StudyId,
    Guid FitId,
    string Law,
    string Key,
    string Form,
    IReadOnlyDictionary<string, double> Parameters,
    bool Converged,
    string? Message,
    double? RSquared,
    IReadOnlyList<FitPoint> Points,
    IReadOnlyList<Guid> EvidenceTrialIds,
    long EvidenceSequence,
    string Method,
    string FitterVersion,
    DateTimeOffset FittedAt);

/// <summary>One data point a fit used: x is the width, y the value fitted (loss or learning rate).</summary>
public sealed record FitPoint(double X, double Y);

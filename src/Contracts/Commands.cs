namespace ScalingLedger.Contracts;

/// <summary>Train one grid cell. Sent by the Server to the <c>run-trial</c> queue.</summary>
public sealed record RunTrial(
    Guid StudyId,
    Guid TrialId,
    int Attempt,
    string Dataset,
    int HiddenLayers,
    int Width,
    string Parameterization,
    int? BaseWidth,
    double LearningRate,
    int Seed,
    int Steps,
    int BatchSize,
    int EvalEvery);

/// <summary>Broadcast to every trainer: stop work on a study (running trial at its next checkpoint).</summary>
public sealed record StopStudyTrials(Guid StudyId);

/// <summary>Broadcast to every trainer: stop one run of a trial (its attempt no longer counts: a newer run took over, or it went silent).</summary>
public sealed record StopTrialRun(Guid StudyId, Guid TrialId, Guid RunId);

/// <summary>Run a coordinate check for a study's model at the given widths (few steps, one learning rate).</summary>
public sealed record RunCoordinateCheck(
    Guid StudyId,
    Guid CheckId,
    string Dataset,
    int HiddenLayers,
    IReadOnlyList<int> Widths,
    string Parameterization,
    int? BaseWidth,
    double LearningRate,
    int Seed,
    int Steps,
    int BatchSize);

using System.Text.Json.Serialization;

namespace ScalingLedger.Contracts;

/// <summary>
/// A fit's claim about a point not yet observed: the law's value at <see cref="Width"/> (a planned width that has not
/// finished, or a target width) with its 95% interval. It names its fit (<see cref="FitId"/>), which names the evidence.
/// Predictions recorded before evidence by reference also list the fit's evidence in <see cref="EvidenceTrialIds"/>;
/// newer ones leave it empty (the fit holds it).
/// </summary>
/// <param name="LearningRate">For a fixed-LR law, the rate the claim is about; for tuned-frontier predictions, the rate
/// the optimal-LR law supplies at that width (when it has been fitted).</param>
/// <param name="Reason">Why this point: <c>planned</c> (in the grid, not finished yet) or <c>target</c>.</param>
/// <param name="AtLearningRate">Came later (absent, null, before): the rate the claim is at, for a law whose claims depend on
/// the rate as well as the width (its <see cref="FitPrediction.LearningRate"/>); null where the claim is at the law key's
/// rate or at the best rate. With law, key and width it names the point observed.</param>
/// <param name="BootstrapLower">Came later (fitter 3.0.0): the bootstrap's 95% interval, kept beside the calibrated interval
/// that <paramref name="Lower"/> and <paramref name="Upper"/> then hold (see <see cref="FitPrediction"/>).</param>
public sealed record PredictionIssued(
    Guid StudyId,
    Guid PredictionId,
    Guid FitId,
    string Law,
    string Key,
    double Width,
    double? LearningRate,
    double Predicted,
    double Lower,
    double Upper,
    string Reason,
    long EvidenceSequence,
    IReadOnlyList<Guid> EvidenceTrialIds,
    string FitterVersion,
    DateTimeOffset IssuedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? AtLearningRate = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? BootstrapLower = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? BootstrapUpper = null) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => IssuedAt;
}

/// <summary>
/// The predicted point was observed. Outside its interval is a deviation, surfaced loudly: a sign of mis-tuning or of
/// a law that stops holding. <see cref="Observed"/> is null when every trial there diverged (then it is outside).
/// <see cref="InsideBootstrap"/> came later: whether the observation fell inside the bootstrap's own interval too, where
/// the prediction kept it beside its calibrated one.
/// <see cref="ObservedAtLeast"/> and <see cref="ObservedAtMost"/> came later still: an interval-censored observation (a
/// width's best rate at the grid's edge or beside a hole: the grid bounds the optimum without pinning it down). Then
/// <see cref="Observed"/> is the value the grid shows (its best rate, or the loss there), <see cref="Residual"/> and
/// <see cref="ZScore"/> are null, and the claim missed when its whole interval lies on the wrong side of the bounds.
/// </summary>
public sealed record PredictionResolved(
    Guid StudyId,
    Guid PredictionId,
    double? Observed,
    double? Residual,
    double? ZScore,
    bool Inside,
    string? Note,
    IReadOnlyList<Guid> ObservedTrialIds,
    long ObservedAtSequence,
    DateTimeOffset ResolvedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? InsideBootstrap = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ObservedAtLeast = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ObservedAtMost = null) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => ResolvedAt;
}

/// <summary>A study made of runs trained elsewhere (a CSV): its runs are complete evidence from the start.</summary>
public sealed record StudyImported(
    Guid StudyId,
    string Name,
    string Owner,
    IReadOnlyList<ImportedRun> Runs,
    IReadOnlyList<string> Columns,
    string ImportedBy,
    DateTimeOffset ImportedAt) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => ImportedAt;
}

/// <summary>One imported run. Sizes: a width, or a parameter count (with tokens for the Chinchilla law).</summary>
public sealed record ImportedRun(Guid TrialId, int Order, int SourceLine, int? Width, double? Params, double? Tokens, double? LearningRate, int? Seed,
    double Loss);

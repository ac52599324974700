using System.Text.Json.Serialization;

namespace ScalingLedger.Contracts;

// Events of a study stream. Names are the storage schema: never rename them.

/// <summary>A study was defined and its whole grid planned, in the order the trials will run.</summary>
public sealed record StudyDefined(
    Guid StudyId,
    StudySpec Spec,
    IReadOnlyList<PlannedTrial> Trials,
    string DefinedBy,
    DateTimeOffset DefinedAt) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => DefinedAt;
}

/// <summary>Someone stopped the study: queued trials never start, the running one stops.</summary>
public sealed record StudyCancelled(Guid StudyId, string CancelledBy, string? Reason, DateTimeOffset CancelledAt) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => CancelledAt;
}

/// <summary>
/// The study's owner (or an admin) let another user manage it (cancel it, ask for coordinate checks, grant) with
/// <c>Permission</c> "manage", or took that back with "none".
/// </summary>
public sealed record StudyAccessGranted(Guid StudyId, string User, string Permission, string GrantedBy, DateTimeOffset GrantedAt) : IStudyEvent
{
    public const string Manage = "manage";
    public const string None = "none";

    DateTimeOffset IStudyEvent.OccurredAt => GrantedAt;
}

/// <summary>
/// A study's events 1..<see cref="Events"/> were brought from another ledger (<c>import-events</c>) and appended as they were
/// recorded there. This event, the first this ledger recorded of the study, says who imported them and when, the file's
/// SHA-256, the chain's head as exported, the digest of the sequences those events speak in, and the exporting ledger's key and
/// signature: <see cref="OriginVerified"/> when the signature is by a key this ledger trusted at the time
/// (<see cref="OriginName"/>, the name it was trusted under). <see cref="OriginLedger"/> is null for an unsigned export.
/// </summary>
public sealed record StudyEventsImported(
    Guid StudyId,
    long Events,
    string ImportedBy,
    DateTimeOffset ImportedAt,
    string FileSha256,
    string Format,
    DateTimeOffset ExportedAt,
    ExportedHead Head,
    string SequencesSha256,
    string? OriginLedger,
    string? OriginPublicKey,
    string? OriginSignature,
    bool OriginVerified,
    string? OriginName) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => ImportedAt;
}

/// <summary>
/// Someone added widths to a study that had ended or was running (<c>POST /api/studies/{id}/extend</c>): <see cref="Trials"/>
/// are new trials of the same study, planned like its own and run like them; a study that had completed runs again. Each width's
/// rates were chosen where the laws point (see <see cref="ExtendedWidth"/> and docs/science.md, "Extending a study"); the
/// predictions for the new widths are recorded in the same transaction as this event, so they precede every trial it plans.
/// </summary>
/// <param name="Seeds">The seeds each new (width, rate) cell is trained with.</param>
public sealed record StudyExtended(
    Guid StudyId,
    IReadOnlyList<ExtendedWidth> Widths,
    IReadOnlyList<int> Seeds,
    IReadOnlyList<PlannedTrial> Trials,
    string ExtendedBy,
    string? Reason,
    DateTimeOffset ExtendedAt) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => ExtendedAt;
}

/// <summary>
/// One width an extension added and why its rates are what they are: the best rate <see cref="Predicted"/> with its 95% interval
/// (<see cref="Lower"/> to <see cref="Upper"/>) that <see cref="Law"/>'s fit <see cref="FitId"/> claimed at the width, the grid's
/// own ratio between neighbouring rates (<see cref="Ratio"/>), the ladder's half-length <see cref="Rungs"/> (rates
/// Predicted x Ratio^k for k = -Rungs..Rungs) and whether it was cut to the most rates a ladder may have (<see cref="Capped"/>).
/// </summary>
public sealed record ExtendedWidth(
    int Width,
    string Law,
    Guid FitId,
    double Predicted,
    double Lower,
    double Upper,
    double Ratio,
    int Rungs,
    bool Capped,
    IReadOnlyList<ExtendedRate> Rates);

/// <summary>One rate of an extended width and why it was chosen: <c>ladder</c> (a rung around the predicted optimum),
/// <c>fixed</c> (the naive fixed-rate choice) or <c>ladder+fixed</c> (both).</summary>
public sealed record ExtendedRate(double LearningRate, string Why)
{
    public const string Ladder = "ladder";
    public const string Fixed = "fixed";
    public const string Both = "ladder+fixed";
}

/// <summary>Every trial of the study reached an end state.</summary>
public sealed record StudyCompleted(Guid StudyId, DateTimeOffset CompletedAt) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => CompletedAt;
}

/// <summary>
/// A law was fitted to the evidence the study held at <see cref="EvidenceSequence"/>.
/// <see cref="Key"/> distinguishes fits of one law (for example the learning rate of a fixed-LR law).
/// The trailing fields came later and are absent (null) in fits recorded before them: the bootstrap
/// confidence intervals of the parameters, the bootstrap's random seed, resamples asked for and resamples
/// whose fit converged, how many optimiser starts converged out of how many were tried (nonlinear laws),
/// and the fit's predictions at the study's widths and target widths.
/// <para>
/// Evidence by reference (later still): a fit that follows an earlier fit of the same law and key names that fit in
/// <see cref="BasedOnFitId"/> and only the trials added to and removed from its evidence; its
/// <see cref="EvidenceTrialIds"/> is then empty and <see cref="EvidenceCount"/> says how many trials the whole evidence
/// has. The first fit of a law and key (and every fit recorded before this) lists its whole evidence in
/// <see cref="EvidenceTrialIds"/>. So each trial is named once per law and key, however often the law is refitted.
/// </para>
/// <para>
/// Later still (fitter 3.0.0): <see cref="OutOfSample"/>, how the law missed the widths it had not seen when refitted on
/// fewer (leave-future-out), from which its prediction intervals are calibrated.
/// </para>
/// <para>
/// This is the one declaration of a fit's fields: the Domain's fitters make a fit as this record before it is recorded
/// (its study, id, evidence sequence, fitter version and time empty until the law engine stamps them).
/// </para>
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
    DateTimeOffset FittedAt,
    IReadOnlyDictionary<string, ParameterInterval>? Intervals = null,
    int? BootstrapSeed = null,
    int? BootstrapResamples = null,
    int? BootstrapConverged = null,
    int? StartsConverged = null,
    int? StartsTried = null,
    IReadOnlyList<FitPrediction>? Predictions = null,
    Guid? BasedOnFitId = null,
    IReadOnlyList<Guid>? EvidenceAdded = null,
    IReadOnlyList<Guid>? EvidenceRemoved = null,
    int? EvidenceCount = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<OutOfSampleResidual>? OutOfSample = null) : IStudyEvent
{
    DateTimeOffset IStudyEvent.OccurredAt => FittedAt;
}

/// <summary>A 95% percentile-bootstrap confidence interval of one fitted parameter.</summary>
public sealed record ParameterInterval(double Lower, double Upper);

/// <summary>
/// A fit's claim about the law's value at <see cref="X"/> (a width): the point value and, where the bootstrap
/// gave one, the 95% percentile interval of the bootstrap predictions there.
/// </summary>
/// <param name="LearningRate">Came later (absent before): for a law of width and learning rate together, the rate the claim
/// is at; null where the law's claim is at its key's rate or at the best rate (every claim recorded before it).</param>
/// <param name="BootstrapLower">Came later (fitter 3.0.0): the bootstrap's own 95% interval, kept beside the calibrated
/// prediction interval that <paramref name="Lower"/> and <paramref name="Upper"/> then hold. Absent (null) in claims of
/// earlier fitters, whose <paramref name="Lower"/> and <paramref name="Upper"/> are the bootstrap's.</param>
public sealed record FitPrediction(double X, double Value, double? Lower, double? Upper,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LearningRate = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? BootstrapLower = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? BootstrapUpper = null);

/// <summary>
/// How a law missed a width it had not seen, measured in the study itself: refitted on the widths up to
/// <see cref="FittedUpTo"/> only, it predicted <see cref="Predicted"/> at <see cref="Width"/>, where the study then
/// observed <see cref="Observed"/> (at <see cref="LearningRate"/> for a claim at a rate).
/// </summary>
public sealed record OutOfSampleResidual(double FittedUpTo, double Width, double? LearningRate, double Predicted, double Observed);

/// <summary>
/// One data point a fit used: x is the size (width, or parameters), y the value fitted (loss or learning rate), and
/// z a second coordinate where the law has one (tokens for the Chinchilla law, the learning rate for the width-lr surface).
/// </summary>
public sealed record FitPoint(double X, double Y, double? Z = null);

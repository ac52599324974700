using System.Text.Json.Serialization;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Studies;

public enum StudyStatus { Running, Completed, Cancelled }

public enum TrialStatus { Scheduled, Running, Completed, Diverged, Failed, Cancelled }

// The read side of a study is split into documents, each folded from the study's events by StudyProjection and kept in
// step with the ledger as events are appended. Each stays small or grows with one trial, never with the whole study, so
// recording a report costs the same at trial 10 as at trial 4,320: a checkpoint rewrites one trial's document.
//   StudySummaryView  one per study: identity, spec, status, times (no trials, fits or predictions)
//   TrialView         one per trial: plan, status, attempts, provenance, checkpoints, result
//   StudyLawsView     one per study: the newest fit of each law and key, with its whole evidence
//   PredictionView    one per prediction: the claim and, once observed, its resolution
//   FitCredibilityView one per fit: whether CredibilityRule believes it, and why not (the not-credible ones set their
//                     predictions aside: shown apart, and left out of calibration)
// StudyView is what the API and the pages show of a study: assembled from those documents (or, as of an earlier event
// sequence, from the same folds run over the events up to it).

/// <summary>One study's summary. Small: it never holds trials, checkpoints, fits or predictions.</summary>
public sealed class StudySummaryView
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
    public int TrialCount { get; set; }
    /// <summary>The global sequence of the last event folded into this document (checkpoints are not folded here).</summary>
    public long LastSequence { get; set; }
    /// <summary>When the last event folded here was recorded, where the event says.</summary>
    public DateTimeOffset? LastActivityAt { get; set; }
    public int FitCount { get; set; }
    public int PredictionCount { get; set; }
    /// <summary>The newest optimal-LR law's slope d (ln lr* = c + d ln h) and its 95% interval, for lists.</summary>
    public ParameterEstimate? OptimalLrSlope { get; set; }
    /// <summary>Coordinate checks run for this study's model, oldest first.</summary>
    public List<CoordinateCheckRecorded> CoordinateChecks { get; set; } = [];
}

/// <summary>A fitted parameter with its 95% interval, where the bootstrap gave one.</summary>
public sealed record ParameterEstimate(double Value, double? Lower, double? Upper);

/// <summary>One trial of a study: a document of its own.</summary>
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

    public bool IsTerminal => Status is TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed or TrialStatus.Cancelled;
}

public sealed record FailedAttemptView(int Attempt, string Error, string? Detail, DateTimeOffset FailedAt);

public sealed record CheckpointView(int Step, double TrainLoss, double EvalLoss, double EvalAccuracy);

/// <summary>A study's laws: the newest fit of each (law, key), each with its whole evidence (reassembled from references).</summary>
public sealed class StudyLawsView
{
    public Guid Id { get; set; }
    public List<LawFitted> LatestFits { get; set; } = [];
    public int FitCount { get; set; }
    public long LastSequence { get; set; }
}

/// <summary>One prediction: the claim and, once observed, its resolution.</summary>
public sealed class PredictionView
{
    public Guid Id { get; set; }
    public Guid StudyId { get; set; }
    public required PredictionIssued Issued { get; set; }
    public PredictionResolved? Resolution { get; set; }
    /// <summary>The global sequence of its PredictionIssued: predictions list in the order they were issued.</summary>
    public long IssuedSequence { get; set; }
    public long LastSequence { get; set; }

    public bool IsDeviation => Resolution is { Inside: false };
}

/// <summary>
/// One fit's credibility (<see cref="CredibilityRule"/>), a document of its own keyed by the fit's id: a study lists the
/// fits that are not credible, and their predictions are set aside.
/// </summary>
public sealed class FitCredibilityView
{
    /// <summary>The fit's <see cref="LawFitted.FitId"/>.</summary>
    public Guid Id { get; set; }
    public Guid StudyId { get; set; }
    public string Law { get; set; } = "";
    public string Key { get; set; } = "";
    /// <summary>The global sequence of the LawFitted event.</summary>
    public long Sequence { get; set; }
    public bool Credible { get; set; }
    /// <summary>Why not, each a sentence naming its numbers; empty when credible.</summary>
    public List<string> Reasons { get; set; } = [];
    /// <summary>The <see cref="CredibilityRule.Version"/> that judged it.</summary>
    public string RuleVersion { get; set; } = CredibilityRule.Version;
}

/// <summary>
/// What the API and the pages show of one study, assembled from its documents (<see cref="Assemble"/>) or folded from
/// its events up to a sequence (<see cref="StudyProjection.Fold"/>, with the same folds).
/// </summary>
public sealed class StudyView
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Owner { get; set; } = "";
    public StudySpec? Spec { get; set; }
    public string Source { get; set; } = "trained";
    public StudyStatus Status { get; set; }
    public DateTimeOffset DefinedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public string? CancelledBy { get; set; }
    /// <summary>The global sequence of the last event of the study this view includes.</summary>
    public long LastSequence { get; set; }
    public List<TrialView> Trials { get; set; } = [];
    /// <summary>The newest fit of each (law, key).</summary>
    public List<LawFitted> LatestFits { get; set; } = [];
    public int FitCount { get; set; }
    /// <summary>Every prediction the study's fits issued, oldest first, with its resolution once observed.</summary>
    public List<PredictionView> Predictions { get; set; } = [];
    /// <summary>Coordinate checks run for this study's model, oldest first.</summary>
    public List<CoordinateCheckRecorded> CoordinateChecks { get; set; } = [];

    /// <summary>The study's fits that <see cref="CredibilityRule"/> does not believe, oldest first: their predictions are set aside.</summary>
    public List<FitCredibilityView> NotCredibleFits { get; set; } = [];

    /// <summary>
    /// Per law: the share of resolved predictions that fell inside their 95% intervals, over the predictions that are
    /// not set aside (a nonsense fit's claims say nothing of the laws' calibration).
    /// </summary>
    public IReadOnlyList<LawCalibration> Calibration =>
        Laws.Calibration.PerLaw(CrediblePredictions.Where(p => p.Resolution is not null)
            .Select(p => (p.Issued.Law, new ResolvedPrediction(p.Resolution!.Residual ?? double.NaN, p.Resolution.ZScore ?? double.NaN, p.Resolution.Inside))));

    /// <summary>Why <paramref name="prediction"/> is set aside ("fit not credible: " and its fit's reasons), or null when its fit is credible.</summary>
    public string? SetAsideReason(PredictionView prediction) =>
        NotCredibleFits.Find(f => f.Id == prediction.Issued.FitId) is { } fit ? SetAsideBecause(fit) : null;

    /// <summary>The predictions whose fit is credible, oldest first (<see cref="Predictions"/> holds them all).</summary>
    [JsonIgnore]
    public IEnumerable<PredictionView> CrediblePredictions
    {
        get
        {
            var setAside = NotCredibleFitIds();
            return Predictions.Where(p => !setAside.Contains(p.Issued.FitId));
        }
    }

    /// <summary>The predictions of fits that are not credible, oldest first.</summary>
    [JsonIgnore]
    public IEnumerable<PredictionView> SetAsidePredictions
    {
        get
        {
            var setAside = NotCredibleFitIds();
            return Predictions.Where(p => setAside.Contains(p.Issued.FitId));
        }
    }

    private HashSet<Guid> NotCredibleFitIds() => NotCredibleFits.Select(f => f.Id).ToHashSet();

    private static string SetAsideBecause(FitCredibilityView fit) => "fit not credible: " + string.Join("; ", fit.Reasons);

    public TrialView? Trial(Guid trialId) => Trials.Find(t => t.TrialId == trialId);

    public IReadOnlyDictionary<TrialStatus, int> CountsByStatus() =>
        Enum.GetValues<TrialStatus>().ToDictionary(s => s, s => Trials.Count(t => t.Status == s));

    /// <summary>The study's view from its documents; its sequence is the newest any of them has seen.</summary>
    /// <param name="notCredibleFits">The study's fit credibility documents (only the not-credible ones are kept).</param>
    public static StudyView Assemble(StudySummaryView summary, IEnumerable<TrialView> trials, StudyLawsView? laws, IEnumerable<PredictionView> predictions,
        IEnumerable<FitCredibilityView>? notCredibleFits = null)
    {
        var trialList = trials.OrderBy(t => t.Order).ToList();
        var predictionList = predictions.OrderBy(p => p.IssuedSequence).ToList();
        return new StudyView
        {
            Id = summary.Id, Name = summary.Name, Owner = summary.Owner, Spec = summary.Spec, Source = summary.Source,
            Status = summary.Status, DefinedAt = summary.DefinedAt, EndedAt = summary.EndedAt, CancelledBy = summary.CancelledBy,
            Trials = trialList,
            LatestFits = laws?.LatestFits ?? [],
            FitCount = laws?.FitCount ?? 0,
            Predictions = predictionList,
            CoordinateChecks = summary.CoordinateChecks,
            NotCredibleFits = (notCredibleFits ?? []).Where(f => !f.Credible).OrderBy(f => f.Sequence).ThenBy(f => f.Id).ToList(),
            LastSequence = new[] { summary.LastSequence, laws?.LastSequence ?? 0 }
                .Concat(trialList.Select(t => t.LastSequence)).Concat(predictionList.Select(p => p.LastSequence)).Max(),
        };
    }
}

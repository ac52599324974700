using System.Runtime.CompilerServices;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// The pure folds from a study's events to its documents (summary, one per trial, laws, one per prediction, one per fit's
/// credibility). The ledger keeps the stored documents with these functions, and <see cref="Fold"/> runs the same
/// functions over a study's events up to any sequence (<c>?asOf=</c>), so the past and the present are computed by the
/// same code.
/// </summary>
public static class StudyProjection
{
    /// <summary>
    /// The study as of the last of <paramref name="events"/> (its own events, in order), each placed where it happened in the
    /// study's history (<see cref="RecordedSequence"/>: what every sequence in its documents and data speaks).
    /// </summary>
    public static StudyView Fold(IEnumerable<(object Data, RecordedSequence Sequence)> events)
    {
        var folder = new StudyFolder();
        foreach (var (data, sequence) in events) folder.Apply(data, sequence);
        return folder.View;
    }

    /// <summary>The trial documents an event touches: every planned trial for StudyDefined and StudyImported, else its trial.</summary>
    public static IEnumerable<Guid> TrialIdsOf(object data) => data switch
    {
        StudyDefined e => e.Trials.Select(t => t.TrialId),
        StudyImported e => e.Runs.Select(r => r.TrialId),
        StudyExtended e => e.Trials.Select(t => t.TrialId),
        ITrialReport e => [e.TrialId],
        _ => [],
    };

    /// <summary>The prediction document an event touches, if any.</summary>
    public static Guid? PredictionIdOf(object data) => data switch
    {
        PredictionIssued e => e.PredictionId,
        PredictionResolved e => e.PredictionId,
        _ => null,
    };

    /// <summary>
    /// Whether an event may change a document of study <paramref name="documentStudy"/>: only when it is about that study. Each
    /// document is keyed by its own id (a trial's, a prediction's, a fit's); an event of another study that names the same id
    /// (an import that reused it, a hand in the database) must never change it, here or in a rebuild.
    /// </summary>
    public static bool Touches(Guid documentStudy, object data) => data is not IStudyEvent e || e.StudyId == documentStudy;

    /// <summary>The summary: identity, spec, status, times and counts. Checkpoints do not touch it.</summary>
    public static StudySummaryView ApplySummary(StudySummaryView? summary, object data, RecordedSequence at)
    {
        var sequence = at.Value;
        // A study begins once, and only its own events change it.
        if (summary is not null && (data is StudyDefined or StudyImported || !Touches(summary.Id, data))) return summary;
        switch (data)
        {
            case StudyDefined e:
                return new StudySummaryView
                {
                    Id = e.StudyId, Name = e.Spec.Name ?? "", Owner = e.Spec.Owner ?? "", Spec = e.Spec, Status = StudyStatus.Running,
                    DefinedAt = e.DefinedAt, TrialCount = e.Trials.Count, LastSequence = sequence, LastActivityAt = e.DefinedAt,
                };
            case StudyImported e:
                return new StudySummaryView
                {
                    Id = e.StudyId, Name = e.Name, Owner = e.Owner, Source = "imported", Status = StudyStatus.Completed,
                    DefinedAt = e.ImportedAt, EndedAt = e.ImportedAt, TrialCount = e.Runs.Count, LastSequence = sequence,
                    LastActivityAt = e.ImportedAt,
                };
        }
        if (summary is null) throw new InvalidOperationException($"{data.GetType().Name} arrived before StudyDefined.");
        if (data is LossCheckpointRecorded) return summary;
        summary.LastSequence = Math.Max(summary.LastSequence, sequence);
        switch (data)
        {
            case StudyCancelled e:
                summary.Status = StudyStatus.Cancelled;
                summary.CancelledBy = e.CancelledBy;
                summary.EndedAt = e.CancelledAt;
                break;
            case StudyCompleted e:
                summary.Status = StudyStatus.Completed;
                summary.EndedAt = e.CompletedAt;
                break;
            case LawFitted e:
                summary.FitCount++;
                if (Laws.OptimalLrLaw.Slope(e) is { } slope) summary.OptimalLrSlope = slope;
                break;
            case PredictionIssued:
                summary.PredictionCount++;
                break;
            case CoordinateCheckRequested:
                summary.CoordinateCheckCount++;
                break;
            case StudyAccessGranted e:
                summary.Managers.Remove(e.User);
                if (e.Permission == StudyAccessGranted.Manage) summary.Managers.Add(e.User);
                break;
            case StudyEventsImported e:
                summary.Imports.Add(Ledger.ImportSeal.Of(e));
                break;
            case StudyExtended e:
                // New trials of the same study: it runs again until they end, and its widths (what its laws claim at) include them.
                summary.Status = StudyStatus.Running;
                summary.EndedAt = null;
                summary.TrialCount += e.Trials.Count;
                if (summary.Spec?.Model is { } model)
                {
                    var widths = model.Widths ?? [];
                    summary.Spec = summary.Spec with
                    {
                        Model = model with { Widths = [.. widths, .. e.Widths.Select(w => w.Width).Where(w => !widths.Contains(w))] },
                    };
                }
                summary.Extensions.Add(new StudyExtension(sequence, e.ExtendedBy, e.ExtendedAt, e.Reason, e.Seeds, e.Trials.Count, e.Widths));
                break;
        }
        summary.LastActivityAt = (data as IStudyEvent)?.OccurredAt ?? summary.LastActivityAt;
        return summary;
    }

    /// <summary>
    /// One trial's document. StudyDefined and StudyImported create it; the trial's own events evolve it. An event about a
    /// trial the study never planned changes nothing (null when there is no document).
    /// </summary>
    public static TrialView? ApplyTrial(TrialView? trial, Guid trialId, object data, RecordedSequence at)
    {
        var sequence = at.Value;
        // Another study's event naming this trial's id changes nothing (see Touches).
        if (trial is not null && !Touches(trial.StudyId, data)) return trial;
        switch (data)
        {
            case StudyDefined e when PlanOf(e, e.Trials).GetValueOrDefault(trialId) is { } planned:
                return Planned(e.StudyId, planned, sequence);
            // An extension plans new trials; it never replans one the study has.
            case StudyExtended e when trial is null && PlanOf(e, e.Trials).GetValueOrDefault(trialId) is { } added:
                return Planned(e.StudyId, added, sequence);
            case StudyImported e when RunsOf(e).GetValueOrDefault(trialId) is { } r:
                return new TrialView
                {
                    TrialId = trialId, StudyId = e.StudyId, Order = r.Order, Width = r.Width ?? 0, LearningRate = r.LearningRate ?? 0,
                    Seed = r.Seed ?? 0, Status = TrialStatus.Completed, FinalEvalLoss = r.Loss, Params = r.Params, Tokens = r.Tokens,
                    EndedAt = e.ImportedAt, EndedSequence = sequence, LastSequence = sequence,
                };
        }
        if (trial is null) return null;
        trial.LastSequence = Math.Max(trial.LastSequence, sequence);
        var t = trial;
        switch (data)
        {
            case TrialStarted e:
                t.Status = TrialStatus.Running;
                t.Attempt = e.Attempt;
                // A new attempt's curve starts empty: the attempt that counts is the latest.
                t.Checkpoints.Clear();
                t.RunId = e.RunId;
                if (e.RunId is { } run) t.Runs.Add(run);
                t.WorkerId = e.WorkerId;
                t.HostName = e.HostName;
                t.Threads = e.Threads;
                t.CodeVersion = e.CodeVersion;
                t.LibTorchVersion = e.LibTorchVersion;
                t.DatasetSha256 = e.DatasetSha256;
                t.StartedAt = e.StartedAt;
                t.Checkpoints.Clear(); // a new attempt starts its curve again
                break;
            case LossCheckpointRecorded e:
                if (e.Attempt is { } attempt && attempt != t.Attempt) break; // an older attempt's, recorded late
                t.Checkpoints.RemoveAll(c => c.Step == e.Step);
                t.Checkpoints.Add(new CheckpointView(e.Step, e.TrainLoss, e.EvalLoss, e.EvalAccuracy));
                t.Checkpoints.Sort((a, b) => a.Step.CompareTo(b.Step));
                break;
            case TrialCompleted e:
                End(t, TrialStatus.Completed, e, sequence);
                t.FinalEvalLoss = e.FinalEvalLoss;
                t.FinalEvalAccuracy = e.FinalEvalAccuracy;
                t.ParameterCount = e.ParameterCount;
                t.DurationSeconds = e.DurationSeconds;
                break;
            case TrialDiverged e:
                End(t, TrialStatus.Diverged, e, sequence);
                t.EndedAtStep = e.Step;
                t.Reason = e.Reason;
                break;
            case TrialFailed e:
                End(t, TrialStatus.Failed, e, sequence);
                t.Reason = e.Error;
                t.FailureDetail = e.Detail;
                break;
            case TrialAttemptFailed e:
                // The trial waits for its next attempt; the failure is kept on the trial (and in the ledger).
                t.Status = TrialStatus.Scheduled;
                t.Attempt = Math.Max(t.Attempt, e.Attempt);
                t.FailedAttempts.Add(new FailedAttemptView(e.Attempt, e.Error, e.Detail, e.FailedAt));
                break;
            case TrialCancelled e:
                End(t, TrialStatus.Cancelled, e, sequence);
                t.EndedAtStep = e.AtStep;
                break;
        }
        return t;
    }

    private static readonly ConditionalWeakTable<object, Dictionary<Guid, PlannedTrial>> Plans = new();
    private static readonly ConditionalWeakTable<StudyImported, Dictionary<Guid, ImportedRun>> Imports = new();

    /// <summary>
    /// An event's planned trials by id, the first of an id kept (as a search from the start finds it): each trial of a
    /// 4,320-trial study is folded from the one event that plans them all, and a search of the list for each made a replay
    /// step's fold quadratic. Kept with the event, which is never changed.
    /// </summary>
    private static Dictionary<Guid, PlannedTrial> PlanOf(object e, IReadOnlyList<PlannedTrial> trials) => Plans.GetValue(e, _ =>
    {
        var byId = new Dictionary<Guid, PlannedTrial>(trials.Count);
        foreach (var t in trials) byId.TryAdd(t.TrialId, t);
        return byId;
    });

    private static Dictionary<Guid, ImportedRun> RunsOf(StudyImported e) => Imports.GetValue(e, _ =>
    {
        var byId = new Dictionary<Guid, ImportedRun>(e.Runs.Count);
        foreach (var r in e.Runs) byId.TryAdd(r.TrialId, r);
        return byId;
    });

    private static TrialView Planned(Guid studyId, PlannedTrial planned, long sequence) => new()
    {
        TrialId = planned.TrialId, StudyId = studyId, Order = planned.Order, Width = planned.Width, LearningRate = planned.LearningRate,
        Seed = planned.Seed, Status = TrialStatus.Scheduled, LastSequence = sequence,
    };

    /// <summary>A trial reaches an end state, when and at which sequence its end says.</summary>
    private static void End(TrialView t, TrialStatus status, ITrialEnd end, long sequence)
    {
        t.Status = status;
        t.EndedAt = end.OccurredAt;
        t.EndedSequence = sequence;
    }

    /// <summary>
    /// The study's laws: the newest fit of each (law, key). A fit that names its evidence by reference (the fit it
    /// builds on, and the trials added and removed since) is kept with its whole evidence, reassembled here.
    /// </summary>
    public static StudyLawsView ApplyLaws(StudyLawsView? laws, Guid studyId, object data, RecordedSequence at)
    {
        var sequence = at.Value;
        laws ??= new StudyLawsView { Id = studyId };
        if (data is not LawFitted e || e.StudyId != studyId) return laws;
        laws.LastSequence = Math.Max(laws.LastSequence, sequence);
        var previous = laws.LatestFits.Find(f => f.Law == e.Law && f.Key == e.Key);
        laws.LatestFits.RemoveAll(f => f.Law == e.Law && f.Key == e.Key);
        laws.LatestFits.Add(e with { EvidenceTrialIds = WholeEvidence(e, previous) });
        laws.LatestFits.Sort((a, b) => (a.Law, a.Key).CompareTo((b.Law, b.Key)));
        laws.FitCount++;
        laws.Bends = [.. Claims.LawBends.Of(laws.LatestFits)];
        return laws;
    }

    /// <summary>A fit's whole evidence: as recorded, or its base fit's evidence with the recorded additions and removals.</summary>
    public static IReadOnlyList<Guid> WholeEvidence(LawFitted fit, LawFitted? previous)
    {
        if (fit.BasedOnFitId is not { } basedOn) return fit.EvidenceTrialIds;
        var evidence = previous is not null && previous.FitId == basedOn ? previous.EvidenceTrialIds.ToList() : [];
        var removed = (fit.EvidenceRemoved ?? []).ToHashSet();
        evidence.RemoveAll(removed.Contains);
        evidence.AddRange(fit.EvidenceAdded ?? []);
        return evidence;
    }

    /// <summary>One prediction's document: issued, then resolved.</summary>
    public static PredictionView? ApplyPrediction(PredictionView? prediction, object data, RecordedSequence at)
    {
        var sequence = at.Value;
        if (prediction is not null && !Touches(prediction.StudyId, data)) return prediction;
        switch (data)
        {
            case PredictionIssued e:
                return new PredictionView { Id = e.PredictionId, StudyId = e.StudyId, Issued = e, IssuedSequence = sequence, LastSequence = sequence };
            case PredictionResolved e when prediction is not null:
                prediction.Resolution = e;
                prediction.LastSequence = Math.Max(prediction.LastSequence, sequence);
                return prediction;
            default:
                return prediction;
        }
    }

    /// <summary>The coordinate check an event is about, if any.</summary>
    public static Guid? CoordinateCheckIdOf(object data) => data switch
    {
        CoordinateCheckRequested e => e.CheckId,
        CoordinateCheckRecorded e => e.CheckId,
        CoordinateCheckFailed e => e.CheckId,
        _ => null,
    };

    /// <summary>One coordinate check's document (keyed by the check's id): asked, then recorded or failed.</summary>
    public static CoordinateCheckView? ApplyCoordinateCheck(CoordinateCheckView? view, object data, RecordedSequence at)
    {
        var sequence = at.Value;
        if (view is not null && !Touches(view.StudyId, data)) return view;
        switch (data)
        {
            case CoordinateCheckRequested e:
                return new CoordinateCheckView
                {
                    Id = e.CheckId, StudyId = e.StudyId, Sequence = sequence, Status = CoordinateCheckStatus.Requested, Request = e,
                };
            case CoordinateCheckRecorded e:
                view ??= new CoordinateCheckView { Id = e.CheckId, StudyId = e.StudyId };
                (view.Check, view.Status, view.Sequence) = (e, CoordinateCheckStatus.Recorded, sequence);
                return view;
            case CoordinateCheckFailed e:
                view ??= new CoordinateCheckView { Id = e.CheckId, StudyId = e.StudyId };
                (view.Error, view.Status, view.Sequence) = (e.Error, CoordinateCheckStatus.Failed, sequence);
                return view;
            default:
                return view;
        }
    }

    /// <summary>One fit's credibility document, judged by <see cref="Claims.CredibilityRule"/> (keyed by the fit's id).</summary>
    public static FitCredibilityView ApplyFitCredibility(FitCredibilityView? current, LawFitted fit, RecordedSequence at)
    {
        var sequence = at.Value;
        if (current is not null && !Touches(current.StudyId, fit)) return current;
        var credibility = Claims.CredibilityRule.Assess(fit);
        return new FitCredibilityView
        {
            Id = fit.FitId, StudyId = fit.StudyId, Law = fit.Law, Key = fit.Key, Sequence = sequence,
            Credible = credibility.Credible, Reasons = [.. credibility.Reasons], RuleVersion = Claims.CredibilityRule.Version,
        };
    }
}

/// <summary>Folds a study's events one at a time through every document's fold; <see cref="View"/> assembles them.</summary>
public sealed class StudyFolder
{
    private StudySummaryView? summary;
    private readonly Dictionary<Guid, TrialView> trials = [];
    private StudyLawsView? laws;
    private readonly Dictionary<Guid, PredictionView> predictions = [];
    private readonly Dictionary<Guid, FitCredibilityView> notCredibleFits = [];
    private readonly Dictionary<Guid, CoordinateCheckView> checks = [];
    private long last;

    /// <summary>Folds one event, placed at <paramref name="at"/> in the study's history.</summary>
    public void Apply(object data, RecordedSequence at)
    {
        var sequence = at.Value;
        // One study's events: an event about another study (see StudyProjection.Touches) is not folded into any of its documents.
        if (summary is not null && !StudyProjection.Touches(summary.Id, data)) return;
        last = Math.Max(last, sequence);
        summary = StudyProjection.ApplySummary(summary, data, at);
        foreach (var trialId in StudyProjection.TrialIdsOf(data))
            if (StudyProjection.ApplyTrial(trials.GetValueOrDefault(trialId), trialId, data, at) is { } trial)
                trials[trialId] = trial;
        if (data is LawFitted fitted)
        {
            laws = StudyProjection.ApplyLaws(laws, summary.Id, data, at);
            var credibility = StudyProjection.ApplyFitCredibility(null, fitted, at);
            if (credibility.Credible) notCredibleFits.Remove(credibility.Id);
            else notCredibleFits[credibility.Id] = credibility;
        }
        if (StudyProjection.PredictionIdOf(data) is { } predictionId
            && StudyProjection.ApplyPrediction(predictions.GetValueOrDefault(predictionId), data, at) is { } prediction)
            predictions[predictionId] = prediction;
        if (StudyProjection.CoordinateCheckIdOf(data) is { } checkId
            && StudyProjection.ApplyCoordinateCheck(checks.GetValueOrDefault(checkId), data, at) is { } check)
            checks[checkId] = check;
    }

    /// <summary>The study as folded so far; its sequence is that of the last event applied.</summary>
    public StudyView View
    {
        get
        {
            if (summary is null) throw new InvalidOperationException("A study stream must begin with StudyDefined or StudyImported.");
            var view = StudyView.Assemble(summary, trials.Values, laws, predictions.Values, notCredibleFits.Values, checks.Values);
            return view with { LastSequence = Math.Max(view.LastSequence, last) };
        }
    }
}

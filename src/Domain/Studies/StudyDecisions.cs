using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// Pure decisions over a study's state: which reported events to record (idempotently) and what follows.
/// </summary>
public static class StudyDecisions
{
    /// <summary>
    /// Decides whether a trainer's report becomes an event. Redelivered or stale reports decide nothing:
    /// a checkpoint already recorded, a report about a trial that already ended, a start of an older attempt.
    /// </summary>
    public static IReadOnlyList<object> DecideReport(StudyView study, object report)
    {
        if (report is CoordinateCheckRecorded check)
            return study.CoordinateChecks.Any(c => c.CheckId == check.CheckId) ? [] : [report];
        var trialId = report switch
        {
            TrialStarted e => e.TrialId,
            LossCheckpointRecorded e => e.TrialId,
            TrialCompleted e => e.TrialId,
            TrialDiverged e => e.TrialId,
            TrialFailed e => e.TrialId,
            TrialAttemptFailed e => e.TrialId,
            TrialCancelled e => e.TrialId,
            _ => throw new ArgumentException($"{report.GetType().Name} is not a trial report.", nameof(report)),
        };
        var trial = study.Trial(trialId);
        if (trial is null || trial.IsTerminal) return [];

        switch (report)
        {
            case TrialStarted s:
                if (study.Status != StudyStatus.Running) return [new TrialCancelled(study.Id, trialId, null, s.StartedAt)];
                // A start of an attempt already seen (redelivered), or of an attempt older than the latest one, is stale.
                if (trial.Attempt > 0 && s.Attempt <= trial.Attempt) return [];
                return [report];
            case LossCheckpointRecorded c:
                return trial.Checkpoints.Any(x => x.Step == c.Step) ? [] : [report];
            case TrialFailed f:
                return DecideFailure(study, trial, f);
            case TrialAttemptFailed:
                return []; // the Server's own decision, never a trainer's report
            default:
                return [report];
        }
    }

    /// <summary>
    /// An attempt failed with an error that is not the model's. Below <see cref="MaxAttempts"/> the failure is recorded as
    /// <see cref="TrialAttemptFailed"/> and the trial is run again as a new attempt (see <see cref="TrialsToRetry"/>);
    /// the last attempt's failure ends the trial. A failure of an attempt older than the trial's latest is stale.
    /// </summary>
    private static IReadOnlyList<object> DecideFailure(StudyView study, TrialView trial, TrialFailed failed)
    {
        var attempt = failed.Attempt ?? trial.Attempt;
        if (attempt < trial.Attempt || trial.FailedAttempts.Any(a => a.Attempt == attempt)) return []; // stale or redelivered
        if (study.Status == StudyStatus.Running && Math.Max(attempt, trial.Attempt) < MaxAttempts)
            return [new TrialAttemptFailed(study.Id, trial.TrialId, Math.Max(attempt, 1), failed.Error, failed.Detail, failed.FailedAt)];
        return [failed];
    }

    /// <summary>
    /// The trials that the given newly recorded events send back to the trainers: each <see cref="TrialAttemptFailed"/>
    /// asks for the next attempt.
    /// </summary>
    public static IReadOnlyList<(TrialView Trial, int Attempt)> TrialsToRetry(StudyView study, IEnumerable<object> recorded) =>
        recorded.OfType<TrialAttemptFailed>()
            .Select(f => study.Trial(f.TrialId) is { } t ? (t, f.Attempt + 1) : default)
            .Where(r => r.Item1 is not null)
            .ToList()!;

    /// <summary>Cancelling ends every trial that has not started; a running trial ends when its trainer stops it.</summary>
    public static IReadOnlyList<object> DecideCancel(StudyView study, string by, string? reason, DateTimeOffset now)
    {
        if (study.Status != StudyStatus.Running) return [];
        var events = new List<object> { new StudyCancelled(study.Id, by, reason, now) };
        events.AddRange(study.Trials.Where(t => t.Status == TrialStatus.Scheduled)
            .Select(t => new TrialCancelled(study.Id, t.TrialId, null, now)));
        return events;
    }

    /// <summary>A running study completes when all its trials ended.</summary>
    public static IReadOnlyList<object> DecideCompletion(StudyView study, DateTimeOffset now) =>
        study.Status == StudyStatus.Running && study.Trials.Count > 0 && study.Trials.All(t => t.IsTerminal)
            ? [new StudyCompleted(study.Id, now)]
            : [];

    /// <summary>
    /// How many attempts a trial gets: after this many failed attempts (an exception in the trainer) or starts that never
    /// ended (the process died under it), it ends as failed.
    /// </summary>
    public const int MaxAttempts = 3;

    /// <summary>
    /// Trials that started <see cref="MaxAttempts"/> times without ending (each time the process died under them, e.g.
    /// out of memory) end as failed instead of being sent again.
    /// </summary>
    public static IReadOnlyList<object> DecideGiveUp(StudyView study, DateTimeOffset now) =>
        study.Status != StudyStatus.Running
            ? []
            : study.Trials.Where(t => t.Status == TrialStatus.Running && t.Attempt >= MaxAttempts)
                .Select(t => (object)new TrialFailed(study.Id, t.TrialId,
                    $"started {t.Attempt} times without ending (the trainer process stopped each time); not tried again", now))
                .ToList();

    /// <summary>Trials that must be (re)sent to trainers after a restart of an in-memory transport.</summary>
    public static IReadOnlyList<TrialView> TrialsToDispatch(StudyView study) =>
        study.Status != StudyStatus.Running
            ? []
            : study.Trials.Where(t => t.Status is TrialStatus.Scheduled || (t.Status == TrialStatus.Running && t.Attempt < MaxAttempts))
                .OrderBy(t => t.Order).ToList();
}

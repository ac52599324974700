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
            TrialCancelled e => e.TrialId,
            _ => throw new ArgumentException($"{report.GetType().Name} is not a trial report.", nameof(report)),
        };
        var trial = study.Trial(trialId);
        if (trial is null || trial.IsTerminal) return [];

        switch (report)
        {
            case TrialStarted s:
                if (study.Status != StudyStatus.Running) return [new TrialCancelled(study.Id, trialId, null, s.StartedAt)];
                if (trial.Status == TrialStatus.Running && s.Attempt <= trial.Attempt) return [];
                return [report];
            case LossCheckpointRecorded c:
                return trial.Checkpoints.Any(x => x.Step == c.Step) ? [] : [report];
            default:
                return [report];
        }
    }

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

    /// <summary>How many times a trial is started before a restart gives up on it.</summary>
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

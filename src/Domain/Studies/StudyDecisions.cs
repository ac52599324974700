using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// Pure decisions about a study: which reported events to record (idempotently) and what follows. Each reads only the
/// state it needs (the study's summary, the one trial a report is about), never the whole study.
/// </summary>
public static class StudyDecisions
{
    /// <summary>The trial a report is about, or null for a report about the study (a coordinate check).</summary>
    public static Guid? TrialIdOf(object report) => (report as ITrialReport)?.TrialId;

    /// <summary>Whether a recorded event ends a trial (so the laws may have new evidence).</summary>
    public static bool EndsTrial(object e) => e is ITrialEnd;

    /// <summary>
    /// Decides whether a trainer's report becomes an event. Redelivered or stale reports decide nothing:
    /// a checkpoint already recorded, a report about a trial that already ended, a start of an older attempt.
    /// </summary>
    /// <param name="trial">The trial the report is about (null when the study has no such trial).</param>
    public static IReadOnlyList<object> DecideReport(StudySummaryView study, TrialView? trial, object report)
    {
        if (TrialIdOf(report) is not { } trialId || trial is null || trial.TrialId != trialId || trial.IsTerminal) return [];

        switch (report)
        {
            case TrialStarted s:
                if (study.Status != StudyStatus.Running) return [new TrialCancelled(study.Id, trialId, null, s.StartedAt)];
                // A start of an attempt already seen (redelivered), or of an attempt older than the latest one, is stale.
                if (trial.Attempt > 0 && s.Attempt <= trial.Attempt) return [];
                return [report];
            case LossCheckpointRecorded c:
                return DecideCheckpoints(study.Id, trial, [c]);
            case TrialFailed f:
                return DecideFailure(study, trial, f);
            case TrialAttemptFailed:
                return []; // the Server's own decision, never a trainer's report
            default:
                return [report];
        }
    }

    /// <summary>
    /// The checkpoints of a trial to record: those of this study's running trial at steps not recorded yet (a redelivered
    /// checkpoint records nothing), each step once. Read from the trial alone: a checkpoint needs no more (the bulk of the
    /// reports: one read, one append).
    /// </summary>
    /// <param name="ofCountedRun">The checkpoints name the run of the attempt that counts (<see cref="TrialRuns"/>): they are recorded
    /// even after the trial's end, which another Server may have recorded first.</param>
    public static IReadOnlyList<object> DecideCheckpoints(Guid studyId, TrialView? trial, IEnumerable<LossCheckpointRecorded> checkpoints,
        bool ofCountedRun = false)
    {
        if (trial is null || trial.StudyId != studyId || (trial.IsTerminal && !ofCountedRun)) return [];
        var seen = trial.Checkpoints.Select(c => c.Step).ToHashSet();
        return checkpoints.Where(c => c.TrialId == trial.TrialId && c.StudyId == studyId && seen.Add(c.Step)).Cast<object>().ToList();
    }

    /// <summary>A coordinate check is asked for while the study has run fewer than <see cref="CoordinateCheckLimits.MaxPerStudy"/>.</summary>
    public static IReadOnlyList<object> DecideCoordinateCheckRequest(StudySummaryView? study, CoordinateCheckRequested request) =>
        study is not null && study.Id == request.StudyId && study.CoordinateCheckCount < CoordinateCheckLimits.MaxPerStudy ? [request] : [];

    /// <summary>A coordinate check's result (or failure) is recorded once, for a check the study asked for.</summary>
    /// <param name="check">The check's document: its request, or its result when a result came already (a redelivery).</param>
    public static IReadOnlyList<object> DecideCoordinateCheck(StudySummaryView? study, CoordinateCheckView? check, IStudyEvent result) =>
        study is not null && study.Id == result.StudyId && check is { Status: CoordinateCheckStatus.Requested } ? [result] : [];

    /// <summary>
    /// An attempt failed with an error that is not the model's. Below <see cref="MaxAttempts"/> the failure is recorded as
    /// <see cref="TrialAttemptFailed"/> and the trial is run again as a new attempt (see <see cref="TrialsToRetry"/>);
    /// the last attempt's failure ends the trial. A failure of an attempt older than the trial's latest is stale.
    /// </summary>
    private static IReadOnlyList<object> DecideFailure(StudySummaryView study, TrialView trial, TrialFailed failed)
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
    public static IReadOnlyList<(Guid TrialId, int Attempt)> TrialsToRetry(IEnumerable<object> recorded) =>
        recorded.OfType<TrialAttemptFailed>().Select(f => (f.TrialId, f.Attempt + 1)).ToList();

    /// <summary>Cancelling ends every trial that has not started; a running trial ends when its trainer stops it.</summary>
    public static IReadOnlyList<object> DecideCancel(StudySummaryView study, IEnumerable<TrialView> scheduled, string by, string? reason, DateTimeOffset now)
    {
        if (study.Status != StudyStatus.Running) return [];
        var events = new List<object> { new StudyCancelled(study.Id, by, reason, now) };
        events.AddRange(scheduled.Where(t => t.Status == TrialStatus.Scheduled).OrderBy(t => t.Order)
            .Select(t => new TrialCancelled(study.Id, t.TrialId, null, now)));
        return events;
    }

    /// <summary>A running study completes when all its trials ended.</summary>
    /// <param name="unfinished">How many of its trials have not ended.</param>
    public static IReadOnlyList<object> DecideCompletion(StudySummaryView study, int unfinished, int trials, DateTimeOffset now) =>
        study.Status == StudyStatus.Running && trials > 0 && unfinished == 0 ? [new StudyCompleted(study.Id, now)] : [];

    /// <summary>
    /// How many attempts a trial gets: after this many failed attempts (an exception in the trainer, or a trainer that fell
    /// silent past its lease: see <see cref="TrialRuns"/>), it ends as failed.
    /// </summary>
    public const int MaxAttempts = 3;
}

using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>Where a report's run stands against its trial.</summary>
public enum RunStanding
{
    /// <summary>From the run of the attempt that counts (or from a trainer that names no run): decided as before.</summary>
    Counted,
    /// <summary>A start of a run the trial has not seen: recorded as the trial's next attempt.</summary>
    NewAttempt,
    /// <summary>From a run whose attempt no longer counts (a newer run took over, or it was given up): recorded as nothing.</summary>
    Stale,
    /// <summary>From a run whose start is not recorded yet (it went to another Server, or is still on its way): tried again shortly.</summary>
    Early,
    /// <summary>The failure of a run that failed before it could start (its data could not be read): the failure of the next attempt.</summary>
    FailedUnstarted,
}

/// <summary>
/// Attempts where they happen. Every delivery of a trial's command is a run with an id of its own that each of its reports
/// carries; the Server records a run's start as the trial's next attempt (a command redelivered after its trainer died is
/// attempt 2, never a continuation of attempt 1), and a report counts only if it is from the run of the attempt that counts.
/// A trial whose trainer goes silent for longer than its lease (see <see cref="DecideLeaseExpired"/>) has that attempt
/// failed, and runs again until it has used <see cref="StudyDecisions.MaxAttempts"/>.
/// </summary>
public static class TrialRuns
{
    /// <param name="run">The run the report says it is from (null: a trainer of an earlier version, which names none).</param>
    public static RunStanding Of(TrialView trial, Guid? run, object report)
    {
        if (run is not { } id) return RunStanding.Counted;
        if (report is TrialStarted) return trial.RunId == id || trial.Runs.Contains(id) ? RunStanding.Stale : RunStanding.NewAttempt;
        if (trial.RunId == id) return RunStanding.Counted;
        if (trial.Runs.Contains(id)) return RunStanding.Stale;
        return report is TrialFailed && trial.Status == TrialStatus.Scheduled ? RunStanding.FailedUnstarted : RunStanding.Early;
    }

    /// <summary>
    /// A new run's start, recorded as the attempt after the trial's latest. The run before it, if it was still running, no
    /// longer counts (its trainer is told to stop: <see cref="Superseded"/>). A start past <see cref="StudyDecisions.MaxAttempts"/>
    /// ends the trial as failed.
    /// </summary>
    public static IReadOnlyList<object> DecideStart(StudySummaryView study, TrialView trial, TrialStarted start)
    {
        if (trial.IsTerminal) return [];
        if (study.Status != StudyStatus.Running) return [new TrialCancelled(study.Id, trial.TrialId, null, start.StartedAt)];
        var attempt = trial.Attempt + 1;
        if (attempt > StudyDecisions.MaxAttempts)
            return [new TrialFailed(study.Id, trial.TrialId,
                $"run {attempt} of a trial that has {StudyDecisions.MaxAttempts} attempts (its trainers stopped under it each time); not tried again",
                start.StartedAt, trial.Attempt)];
        return [start with { Attempt = attempt }];
    }

    /// <summary>The run that a newly recorded start took over from, when that run had not ended: its trainer should stop.</summary>
    public static Guid? Superseded(TrialView before, IReadOnlyList<object> recorded) =>
        before.Status == TrialStatus.Running && before.RunId is { } old && recorded.OfType<TrialStarted>().Any() ? old : null;

    /// <summary>Checkpoints are recorded for the attempt they are from (a late one of the attempt that counts is still its own).</summary>
    public static IReadOnlyList<object> NameAttempt(IReadOnlyList<object> recorded, int attempt) =>
        recorded.Select(e => e is LossCheckpointRecorded c ? c with { Attempt = attempt } : e).ToList();

    /// <summary>
    /// A running trial whose trainer has not been heard from since <paramref name="lastHeard"/> for longer than
    /// <paramref name="lease"/>: its attempt failed (the trainer is presumed dead); the last attempt's failure ends the trial.
    /// Nothing while the trial is not running, or was heard from within the lease.
    /// </summary>
    /// <param name="trainerGone">The trainer ran inside a Server that has stopped since (the in-memory transport): no lease to wait for.</param>
    public static IReadOnlyList<object> DecideLeaseExpired(StudySummaryView study, TrialView trial, DateTimeOffset lastHeard, TimeSpan lease,
        DateTimeOffset now, bool trainerGone = false)
    {
        if (trial.Status != TrialStatus.Running || (!trainerGone && now - lastHeard <= lease)) return [];
        var silent = (now - lastHeard).TotalSeconds;
        var error = trainerGone
            ? $"its trainer ran inside a Server that stopped while it ran ({trial.WorkerId ?? "unknown"} on {trial.HostName ?? "unknown"})"
            : $"no word from its trainer ({trial.WorkerId ?? "unknown"} on {trial.HostName ?? "unknown"}) for {silent:F0} s, " +
              $"past the lease of {lease.TotalSeconds:F0} s: the trainer is presumed dead";
        if (study.Status != StudyStatus.Running) return [new TrialCancelled(study.Id, trial.TrialId, null, now)];
        if (trial.Attempt < StudyDecisions.MaxAttempts)
            return [new TrialAttemptFailed(study.Id, trial.TrialId, Math.Max(trial.Attempt, 1), error, null, now)];
        return [new TrialFailed(study.Id, trial.TrialId, $"{error}; attempt {trial.Attempt} of {StudyDecisions.MaxAttempts}, not tried again",
            now, trial.Attempt)];
    }

    /// <summary>
    /// The attempt a trial's command asks for when it is owed to the trainers (not started yet, or its last attempt failed):
    /// the one after its latest; null when nothing is owed.
    /// </summary>
    public static int? Owed(StudySummaryView study, TrialView trial) =>
        study.Status == StudyStatus.Running && trial.Status == TrialStatus.Scheduled ? trial.Attempt + 1 : null;
}

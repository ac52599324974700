using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>What the ledger does with a trainer's report.</summary>
public enum ReportVerdict
{
    /// <summary>Its events are appended (<see cref="ReportDecision.Events"/>).</summary>
    Record,
    /// <summary>
    /// It is not a report the ledger can hold (malformed, about no such trial, beyond the spec): logged with why, acknowledged,
    /// nothing appended.
    /// </summary>
    Refuse,
    /// <summary>It says nothing new (already recorded, its trial ended, its run no longer counts): acknowledged, nothing appended.</summary>
    Ignore,
    /// <summary>It came before its run's start: tried again once that start is recorded.</summary>
    Retry,
    /// <summary>A heartbeat: its trial's lease is renewed (a document, not an event).</summary>
    Renew,
}

/// <summary>
/// The decision about one report: its verdict, the events to append, why (for a refusal, an ignored or a retried report),
/// and the run whose trainer is answered "stop" (a run that no longer counts, or one a new run took over from).
/// </summary>
public sealed record ReportDecision(ReportVerdict Verdict, IReadOnlyList<object> Events, string? Why = null, Guid? StopRun = null)
{
    public static ReportDecision Refuse(string why) => new(ReportVerdict.Refuse, [], why);
    public static ReportDecision Ignore(string why, Guid? stopRun = null) => new(ReportVerdict.Ignore, [], why, stopRun);
    public static ReportDecision Retry(string why) => new(ReportVerdict.Retry, [], why);

    /// <summary>The events to append; none is an ignored report (a redelivery, or a report about a trial that ended).</summary>
    public static ReportDecision Record(IReadOnlyList<object> events, Guid? stopRun = null) => events.Count == 0
        ? Ignore("nothing new: it was recorded already, or its trial has ended", stopRun)
        : new(ReportVerdict.Record, events, null, stopRun);

    /// <summary>The trials it sends back to the trainers: each failed attempt below the limit asks for the next.</summary>
    public IReadOnlyList<(Guid TrialId, int Attempt)> Retries => StudyDecisions.TrialsToRetry(Events);

    /// <summary>The event among those recorded that ends a trial, if one does.</summary>
    public object? End => Events.FirstOrDefault(StudyDecisions.EndsTrial);
}

/// <summary>
/// Whether a trainer's report is recorded, refused, ignored, retried or renews a lease, decided in one place from the report,
/// the run it names, and the state it is about (the study's summary with the one trial, or the coordinate check): the
/// shape (<see cref="ReportValidation.Shape"/>), the run's standing (<see cref="TrialRuns.Of"/>), the trial's limits
/// (<see cref="ReportValidation.AgainstTrial"/>) and the events that follow (<see cref="StudyDecisions"/>,
/// <see cref="TrialRuns"/>). The Server reads the state, appends the events and acts on the verdict; it decides nothing.
/// </summary>
public static class ReportDecisions
{
    /// <summary>
    /// The decision that needs nothing read: a malformed report is refused (<see cref="ReportValidation.Shape"/>), a heartbeat
    /// renews its trial's lease; null for every other report, decided once its state is read.
    /// </summary>
    public static ReportDecision? Screen(object report) =>
        ReportValidation.Shape(report) is { } malformed ? ReportDecision.Refuse(malformed)
        : report is TrialHeartbeat ? new ReportDecision(ReportVerdict.Renew, [])
        : null;

    /// <summary>The trial a report is about (null for a coordinate check's, which is about its check).</summary>
    public static Guid? TrialOf(object report) => report switch
    {
        ITrialReport about => about.TrialId,
        LossCheckpointsRecorded batch => batch.TrialId,
        TrialHeartbeat beat => beat.TrialId,
        _ => null,
    };

    /// <summary>The coordinate check a report is about (its result or its failure), or null.</summary>
    public static Guid? CheckOf(object report) => report switch
    {
        CoordinateCheckRecorded result => result.CheckId,
        CoordinateCheckFailed failed => failed.CheckId,
        _ => null,
    };

    /// <summary>The decision about a report of a trial (every <see cref="ITrainerReport"/> but a coordinate check's).</summary>
    /// <param name="run">The run the report names (its header); null from a trainer that names none, decided as the attempt that counts.</param>
    /// <param name="study">The study's summary, null when there is no such study.</param>
    /// <param name="trial">The trial the report is about, null when the study has no such trial.</param>
    public static ReportDecision Decide(object report, Guid? run, StudySummaryView? study, TrialView? trial) =>
        Screen(report) ?? DecideScreened(report, run, study, trial);

    /// <summary>
    /// <see cref="Decide"/> for a report <see cref="Screen"/> had nothing to say about: the Server screens a report before
    /// it reads the state and takes the study's writer, and does not walk it a second time under the writer's lock.
    /// </summary>
    public static ReportDecision DecideScreened(object report, Guid? run, StudySummaryView? study, TrialView? trial)
    {
        if (CheckOf(report) is not null) return ReportDecision.Refuse($"{report.GetType().Name} is about a coordinate check, not a trial");
        var standing = trial is null ? RunStanding.Counted : TrialRuns.Of(trial, run, report);
        if (standing == RunStanding.Early)
            return ReportDecision.Retry($"{report.GetType().Name} of trial {trial!.TrialId} from run {run}, whose start is not recorded yet");
        if (standing == RunStanding.Stale)
            return ReportDecision.Ignore($"from run {run}, whose attempt no longer counts", report is TrialStarted ? null : run);
        if (ReportValidation.AgainstTrial(report, study, trial) is { } problem) return ReportDecision.Refuse(problem);
        if (study is null || trial is null) return ReportDecision.Refuse($"no trial {TrialOf(report)} in study {(report as ITrainerReport)?.StudyId}");
        var ofRun = run is not null;
        IReadOnlyList<object> events = report switch
        {
            TrialStarted start when ofRun => TrialRuns.DecideStart(study, trial, start),
            LossCheckpointsRecorded batch =>
                TrialRuns.NameAttempt(StudyDecisions.DecideCheckpoints(study.Id, trial, batch.Checkpoints, ofRun), trial.Attempt),
            LossCheckpointRecorded checkpoint =>
                TrialRuns.NameAttempt(StudyDecisions.DecideCheckpoints(study.Id, trial, [checkpoint], ofRun), trial.Attempt),
            // A run that failed before it could start (its data unreadable) fails the attempt it would have been.
            TrialFailed failed when standing == RunStanding.FailedUnstarted =>
                StudyDecisions.DecideReport(study, trial, failed with { Attempt = trial.Attempt + 1 }),
            TrialFailed failed when ofRun => StudyDecisions.DecideReport(study, trial, failed with { Attempt = trial.Attempt }),
            _ => StudyDecisions.DecideReport(study, trial, report),
        };
        return ReportDecision.Record(events, TrialRuns.Superseded(trial, events));
    }

    /// <summary>The decision about a coordinate check's result or failure, given the check's document (null: none was asked for).</summary>
    public static ReportDecision DecideCheck(IStudyEvent result, StudySummaryView? study, CoordinateCheckView? check, Guid checkId)
    {
        if (Screen(result) is { } screened) return screened;
        if (ReportValidation.AgainstCheck(result, study, check, checkId) is { } problem) return ReportDecision.Refuse(problem);
        return ReportDecision.Record(StudyDecisions.DecideCoordinateCheck(study, check, result));
    }
}

using Marten;
using MassTransit;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Trials;

/// <summary>
/// Appends what trainers report to the study's stream, idempotently, and acknowledges once it is committed: the laws are
/// refitted beside this path by the reactor (<see cref="Laws.LawReactor"/>), never in it. Every report is checked first
/// (<see cref="ReportValidation"/>): a malformed one, or one about a trial the ledger does not have, is refused before it
/// waits for its turn or joins a group; one that does not fit its trial (an attempt the ledger did not send, a step beyond
/// the spec, a checkpoint before the start) is refused when its trial is read. A refusal is logged with why and
/// acknowledged, and nothing of it is appended. A report reads only its trial's document and the study's summary, so its
/// cost does not grow with the study; reports that arrive together are appended in one transaction
/// (<see cref="StudyWriter.RecordReportAsync"/>); each trial's in the order its trainer sent them (<see cref="ReportSequencer"/>).
/// </summary>
public sealed class TrialReportConsumer(StudyWriter writer, TrialDispatcher dispatcher, ReportSequencer sequencer, KnownTrials known,
    RunStarts runStarts, TrialReconciler reconciler, IDocumentStore store, ILogger<TrialReportConsumer> log) :
    IConsumer<TrialStarted>, IConsumer<LossCheckpointRecorded>, IConsumer<TrialCompleted>,
    IConsumer<TrialDiverged>, IConsumer<TrialFailed>, IConsumer<TrialCancelled>, IConsumer<CoordinateCheckRecorded>,
    IConsumer<LossCheckpointsRecorded>, IConsumer<CoordinateCheckFailed>, IConsumer<TrialHeartbeat>
{
    public Task Consume(ConsumeContext<LossCheckpointsRecorded> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialStarted> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<LossCheckpointRecorded> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialCompleted> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialDiverged> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialFailed> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialCancelled> context) => Record(context, context.Message.StudyId, context.Message.TrialId);

    /// <summary>A coordinate check's result: recorded once, for a check the study asked for.</summary>
    public Task Consume(ConsumeContext<CoordinateCheckRecorded> context) =>
        Replayable(context, () => RecordCheck(context, context.Message, context.Message.CheckId));

    /// <summary>A coordinate check that could not run: recorded as failed.</summary>
    public Task Consume(ConsumeContext<CoordinateCheckFailed> context) =>
        Replayable(context, () => RecordCheck(context, context.Message, context.Message.CheckId));

    /// <summary>A report replayed from the error queue that still cannot be recorded goes back to it for later (<see cref="FailedReports"/>).</summary>
    private async Task Replayable<T>(ConsumeContext<T> context, Func<Task> record) where T : class
    {
        try
        {
            await record();
        }
        catch (Exception ex) when (FailedReports.TryLater(context, ex))
        {
            await FailedReports.SendBackAsync(context, ex, log);
        }
    }

    private async Task RecordCheck(ConsumeContext context, IStudyEvent result, Guid checkId)
    {
        if (ReportValidation.Shape(result) is { } malformed)
        {
            Refuse(context, result, malformed);
            return;
        }
        string? refusal = null;
        await writer.RecordReportAsync(result.StudyId, WorkerOf(context), context.MessageId?.ToString(), null, async reads =>
        {
            var study = await reads.SummaryAsync(context.CancellationToken);
            var check = await reads.CoordinateCheckAsync(checkId, context.CancellationToken);
            refusal = ReportValidation.AgainstCheck(result, study, check, checkId);
            return refusal is null ? StudyDecisions.DecideCoordinateCheck(study, check, result) : [];
        }, context.CancellationToken);
        if (refusal is not null) Refuse(context, result, refusal);
    }

    /// <summary>A trainer still runs a trial: its lease is renewed (a document, not an event), for the run that counts only.</summary>
    public async Task Consume(ConsumeContext<TrialHeartbeat> context)
    {
        var beat = context.Message;
        // A heartbeat that waited out an outage in the error queue says nothing about now.
        if (FailedReports.IsReplay(context) || beat.WorkerId is not { Length: <= ReportValidation.MaxNameLength }) return;
        if (!await known.ExistsAsync(beat.StudyId, beat.TrialId, context.CancellationToken)) return;
        await using var session = store.LightweightSession();
        session.Store(new TrialLease { Id = beat.TrialId, RunId = beat.RunId, LastHeard = DateTimeOffset.UtcNow });
        await session.SaveChangesAsync(context.CancellationToken);
    }

    private Task Record<T>(ConsumeContext<T> context, Guid studyId, Guid trialId) where T : class =>
        Replayable(context, () => RecordOnce(context, studyId, trialId));

    private async Task RecordOnce<T>(ConsumeContext<T> context, Guid studyId, Guid trialId) where T : class
    {
        var report = (object)context.Message;
        if (ReportValidation.Shape(report) is { } malformed)
        {
            Refuse(context, report, malformed);
            return;
        }
        if (!await known.ExistsAsync(studyId, trialId, context.CancellationToken))
        {
            Refuse(context, report, $"no trial {trialId} in study {studyId}");
            return;
        }
        var replayed = FailedReports.IsReplay(context);
        if (replayed && FailedReports.Count(context) == 0 && context.GetRetryAttempt() == 0)
            log.LogInformation("Replaying {Report} of trial {TrialId} from the error queue (its tries in place were used up)",
                report.GetType().Name, trialId);
        var run = context.Headers.Get<Guid>(ReportHeaders.Run);
        StudySummaryView? study = null;
        TrialView? trial = null;
        string? refusal = null;
        var standing = RunStanding.Counted;
        var record = () => InOrder(context, trialId, run, last: StudyDecisions.EndsTrial(report), () => writer.RecordReportAsync(studyId,
            WorkerOf(context), context.MessageId?.ToString(), trialId, async reads =>
        {
            refusal = null;
            trial = await reads.TrialAsync(trialId, context.CancellationToken);
            study = await reads.SummaryAsync(context.CancellationToken);
            standing = trial is null ? RunStanding.Counted : TrialRuns.Of(trial, run, report);
            if (standing is RunStanding.Early or RunStanding.Stale) return [];
            if (ReportValidation.AgainstTrial(report, study, trial) is { } problem)
            {
                refusal = problem;
                return [];
            }
            var ofRun = run is not null;
            return report switch
            {
                TrialStarted start when ofRun => TrialRuns.DecideStart(study!, trial!, start),
                LossCheckpointsRecorded batch =>
                    TrialRuns.NameAttempt(StudyDecisions.DecideCheckpoints(studyId, trial, batch.Checkpoints, ofRun), trial!.Attempt),
                LossCheckpointRecorded checkpoint =>
                    TrialRuns.NameAttempt(StudyDecisions.DecideCheckpoints(studyId, trial, [checkpoint], ofRun), trial!.Attempt),
                TrialFailed failed when standing == RunStanding.FailedUnstarted =>
                    StudyDecisions.DecideReport(study!, trial, failed with { Attempt = trial!.Attempt + 1 }),
                TrialFailed failed when ofRun => StudyDecisions.DecideReport(study!, trial, failed with { Attempt = trial!.Attempt }),
                _ => StudyDecisions.DecideReport(study!, trial, report),
            };
        }, context.CancellationToken));
        var recorded = await record();
        // Before its run's start (sent first, taken beside it): it waits here once for that start, then is decided again.
        if (standing == RunStanding.Early && run is { } early && await runStarts.WaitAsync(early, context.CancellationToken))
            recorded = await record();
        if (refusal is not null)
        {
            Refuse(context, report, refusal);
            return;
        }
        switch (standing)
        {
            case RunStanding.Early when replayed && FailedReports.Count(context) > 0
                                        && DateTime.UtcNow - FailedReports.Since(context) > FailedReports.EarlyPatience:
                Refuse(context, report, $"its run {run} has not started in the {FailedReports.EarlyPatience.TotalHours:F0} h since the report was " +
                                        "first replayed (no such run reached the ledger)");
                return;
            case RunStanding.Early:
                // Its run's start is on its way through another Server (or a retry of this one): the transport's retry finds it recorded.
                throw new ReportTooEarlyException($"{report.GetType().Name} of trial {trialId} from run {run}, whose start is not recorded yet");
            case RunStanding.Stale:
                log.LogInformation("Ignored {Report} of trial {TrialId} from run {Run}: its attempt no longer counts", report.GetType().Name, trialId, run);
                if (run is { } old && report is not TrialStarted) await dispatcher.StopRunAsync(studyId, trialId, old, context.CancellationToken);
                return;
        }
        if (run is { } started && recorded.OfType<TrialStarted>().Any()) runStarts.Recorded(started);
        if (trial is not null && TrialRuns.Superseded(trial, recorded) is { } superseded)
        {
            log.LogWarning("Trial {TrialId}: a new run started while run {Run} had not ended (its command was delivered again): " +
                           "the new run is attempt {Attempt}, and the old one is told to stop", trialId, superseded, trial.Attempt + 1);
            await dispatcher.StopRunAsync(studyId, trialId, superseded, context.CancellationToken);
        }

        // A failed attempt below the limit runs again: the ledger now owes its command (the failure stays as TrialAttemptFailed).
        foreach (var (retried, attempt) in StudyDecisions.TrialsToRetry(recorded))
        {
            var failed = recorded.OfType<TrialAttemptFailed>().First(f => f.TrialId == retried);
            log.LogWarning("Trial {TrialId}: attempt {Attempt} failed ({Error}); running it again as attempt {Next}",
                retried, failed.Attempt, failed.Error, attempt);
            reconciler.Poke();
        }
        if (study is not null && trial is not null && recorded.FirstOrDefault(StudyDecisions.EndsTrial) is { } end)
            log.LogInformation("Study {Name}: width {Width}, lr {LearningRate}, seed {Seed} {Outcome}",
                study.Name, trial.Width, trial.LearningRate, trial.Seed, end.GetType().Name.Replace("Trial", "").ToLowerInvariant());
    }

    /// <summary>
    /// Records a report of a trainer that names no run after the ones it sent before it (see <see cref="ReportSequencer"/>).
    /// Reports that name their run need no order, and several Servers take them (a process's sequencer cannot see what
    /// another Server recorded): one that comes before its run's start is tried again shortly, and checkpoints that come
    /// after their trial's end are still recorded for their attempt.
    /// </summary>
    private async Task<IReadOnlyList<object>> InOrder(ConsumeContext context, Guid trialId, Guid? run, bool last,
        Func<Task<IReadOnlyList<object>>> record)
    {
        var position = run is null && context.Headers.Get<int>(ReportHeaders.Index) is { } index
            ? new ReportPosition(trialId, context.Headers.Get<int>(ReportHeaders.Attempt) ?? 1, index, last)
            : (ReportPosition?)null;
        if (position is { } waiting) await sequencer.WaitTurnAsync(waiting, context.CancellationToken);
        try
        {
            return await record();
        }
        finally
        {
            // Recorded, refused or early: the next report of the run need not wait for this one any longer.
            if (position is { } done) sequencer.Recorded(done);
        }
    }

    private static string WorkerOf(ConsumeContext context) =>
        "trainer@" + (context.Host?.MachineName is { Length: > 0 and <= ReportValidation.MaxNameLength } machine ? machine : "unknown");

    /// <summary>A report the ledger will not record: logged with why, acknowledged, nothing appended.</summary>
    private void Refuse(ConsumeContext context, object report, string why) =>
        log.LogWarning("Refused {Report} from {Worker} (message {MessageId}) about study {StudyId}: {Why}",
            report.GetType().Name, WorkerOf(context), context.MessageId, (report as IStudyEvent)?.StudyId, why);
}

/// <summary>A report from a run whose start is not recorded yet: the consumer's retry records it once the start is.</summary>
public sealed class ReportTooEarlyException(string message) : Exception(message);

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
    ILogger<TrialReportConsumer> log) :
    IConsumer<TrialStarted>, IConsumer<LossCheckpointRecorded>, IConsumer<TrialCompleted>,
    IConsumer<TrialDiverged>, IConsumer<TrialFailed>, IConsumer<TrialCancelled>, IConsumer<CoordinateCheckRecorded>,
    IConsumer<LossCheckpointsRecorded>, IConsumer<CoordinateCheckFailed>
{
    public Task Consume(ConsumeContext<LossCheckpointsRecorded> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialStarted> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<LossCheckpointRecorded> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialCompleted> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialDiverged> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialFailed> context) => Record(context, context.Message.StudyId, context.Message.TrialId);
    public Task Consume(ConsumeContext<TrialCancelled> context) => Record(context, context.Message.StudyId, context.Message.TrialId);

    /// <summary>A coordinate check's result: recorded once, for a check the study asked for.</summary>
    public Task Consume(ConsumeContext<CoordinateCheckRecorded> context) => RecordCheck(context, context.Message, context.Message.CheckId);

    /// <summary>A coordinate check that could not run: recorded as failed.</summary>
    public Task Consume(ConsumeContext<CoordinateCheckFailed> context) => RecordCheck(context, context.Message, context.Message.CheckId);

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

    private async Task Record<T>(ConsumeContext<T> context, Guid studyId, Guid trialId) where T : class
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
        StudySummaryView? study = null;
        TrialView? trial = null;
        string? refusal = null;
        var recorded = await InOrder(context, trialId, last: StudyDecisions.EndsTrial(report), () => writer.RecordReportAsync(studyId,
            WorkerOf(context), context.MessageId?.ToString(), trialId, async reads =>
        {
            trial = await reads.TrialAsync(trialId, context.CancellationToken);
            study = await reads.SummaryAsync(context.CancellationToken);
            if (ReportValidation.AgainstTrial(report, study, trial) is { } problem)
            {
                refusal = problem;
                return [];
            }
            return report switch
            {
                LossCheckpointsRecorded batch => StudyDecisions.DecideCheckpoints(studyId, trial, batch.Checkpoints),
                LossCheckpointRecorded checkpoint => StudyDecisions.DecideCheckpoints(studyId, trial, [checkpoint]),
                _ => StudyDecisions.DecideReport(study!, trial, report),
            };
        }, context.CancellationToken));
        if (refusal is not null)
        {
            Refuse(context, report, refusal);
            return;
        }

        // A failed attempt below the limit runs again (the failure stays in the ledger as TrialAttemptFailed).
        foreach (var (retried, attempt) in StudyDecisions.TrialsToRetry(recorded))
        {
            if (study?.Spec is not { } spec || trial is null || trial.TrialId != retried) continue;
            var failed = recorded.OfType<TrialAttemptFailed>().First(f => f.TrialId == retried);
            log.LogWarning("Trial {TrialId}: attempt {Attempt} failed ({Error}); running it again as attempt {Next}",
                retried, failed.Attempt, failed.Error, attempt);
            await dispatcher.SendAsync(GridPlanner.ToCommand(studyId, spec,
                new PlannedTrial(trial.TrialId, trial.Order, trial.Width, trial.LearningRate, trial.Seed), attempt), context.CancellationToken);
        }
        if (study is not null && trial is not null && recorded.FirstOrDefault(StudyDecisions.EndsTrial) is { } end)
            log.LogInformation("Study {Name}: width {Width}, lr {LearningRate}, seed {Seed} {Outcome}",
                study.Name, trial.Width, trial.LearningRate, trial.Seed, end.GetType().Name.Replace("Trial", "").ToLowerInvariant());
    }

    /// <summary>Records a report after the ones its trainer sent before it (see <see cref="ReportSequencer"/>).</summary>
    private async Task<IReadOnlyList<object>> InOrder(ConsumeContext context, Guid trialId, bool last, Func<Task<IReadOnlyList<object>>> record)
    {
        var position = context.Headers.Get<int>(ReportHeaders.Index) is { } index
            ? new ReportPosition(trialId, context.Headers.Get<int>(ReportHeaders.Attempt) ?? 1, index, last)
            : (ReportPosition?)null;
        if (position is { } waiting) await sequencer.WaitTurnAsync(waiting, context.CancellationToken);
        var recorded = await record();
        if (position is { } done) sequencer.Recorded(done);
        return recorded;
    }

    private static string WorkerOf(ConsumeContext context) =>
        "trainer@" + (context.Host?.MachineName is { Length: > 0 and <= ReportValidation.MaxNameLength } machine ? machine : "unknown");

    /// <summary>A report the ledger will not record: logged with why, acknowledged, nothing appended.</summary>
    private void Refuse(ConsumeContext context, object report, string why) =>
        log.LogWarning("Refused {Report} from {Worker} (message {MessageId}) about study {StudyId}: {Why}",
            report.GetType().Name, WorkerOf(context), context.MessageId, (report as IStudyEvent)?.StudyId, why);
}

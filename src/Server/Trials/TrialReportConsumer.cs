using Marten;
using MassTransit;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Trials;

/// <summary>
/// Appends what trainers report to the study's stream, idempotently, and acknowledges once it is committed: the laws are
/// refitted beside this path by the reactor (<see cref="Laws.LawReactor"/>), never in it. A report reads only its trial's
/// document and the study's summary, so its cost does not grow with the study; reports that arrive together are
/// appended in one transaction (<see cref="StudyWriter.RecordReportAsync"/>); each trial's in the order its trainer sent
/// them (<see cref="ReportSequencer"/>).
/// </summary>
public sealed class TrialReportConsumer(StudyWriter writer, TrialDispatcher dispatcher, ReportSequencer sequencer, ILogger<TrialReportConsumer> log) :
    IConsumer<TrialStarted>, IConsumer<LossCheckpointRecorded>, IConsumer<TrialCompleted>,
    IConsumer<TrialDiverged>, IConsumer<TrialFailed>, IConsumer<TrialCancelled>, IConsumer<CoordinateCheckRecorded>,
    IConsumer<LossCheckpointsRecorded>
{
    /// <summary>Several checkpoints of one trial: each decided against the trial (and the ones before it), all appended at once.</summary>
    public async Task Consume(ConsumeContext<LossCheckpointsRecorded> context)
    {
        var batch = context.Message;
        await InOrder(context, batch.TrialId, last: false, () => writer.RecordReportAsync(batch.StudyId, WorkerOf(context), context.MessageId?.ToString(),
            batch.TrialId,
            async reads => StudyDecisions.DecideCheckpoints(batch.StudyId, await reads.TrialAsync(batch.TrialId, context.CancellationToken), batch.Checkpoints),
            context.CancellationToken));
    }

    /// <summary>A coordinate check's result: recorded once, for a study the ledger has.</summary>
    public async Task Consume(ConsumeContext<CoordinateCheckRecorded> context)
    {
        var check = context.Message;
        await writer.RecordReportAsync(check.StudyId, WorkerOf(context), context.MessageId?.ToString(), null, async reads =>
            StudyDecisions.DecideCoordinateCheck(await reads.SummaryAsync(context.CancellationToken),
                await reads.CoordinateCheckAsync(check.CheckId, context.CancellationToken), check), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<TrialStarted> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<LossCheckpointRecorded> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialCompleted> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialDiverged> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialFailed> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialCancelled> context) => Record(context, context.Message.StudyId);

    private async Task Record<T>(ConsumeContext<T> context, Guid studyId) where T : class
    {
        var report = (object)context.Message;
        StudySummaryView? study = null;
        TrialView? trial = null;
        var recorded = await InOrder(context, StudyDecisions.TrialIdOf(report), last: StudyDecisions.EndsTrial(report), () => writer.RecordReportAsync(studyId,
            WorkerOf(context), context.MessageId?.ToString(), StudyDecisions.TrialIdOf(report), async reads =>
        {
            trial = StudyDecisions.TrialIdOf(report) is { } trialId ? await reads.TrialAsync(trialId, context.CancellationToken) : null;
            if (trial is not null && trial.StudyId != studyId) trial = null;
            // A checkpoint is decided by its trial alone (the bulk of the reports: one read, one append).
            if (report is LossCheckpointRecorded checkpoint) return StudyDecisions.DecideCheckpoints(studyId, trial, [checkpoint]);
            study = await reads.SummaryAsync(context.CancellationToken);
            return study is null ? [] : StudyDecisions.DecideReport(study, trial, report);
        }, context.CancellationToken));

        // A failed attempt below the limit runs again (the failure stays in the ledger as TrialAttemptFailed).
        foreach (var (trialId, attempt) in StudyDecisions.TrialsToRetry(recorded))
        {
            if (study?.Spec is not { } spec || trial is null || trial.TrialId != trialId) continue;
            var failed = recorded.OfType<TrialAttemptFailed>().First(f => f.TrialId == trialId);
            log.LogWarning("Trial {TrialId}: attempt {Attempt} failed ({Error}); running it again as attempt {Next}",
                trialId, failed.Attempt, failed.Error, attempt);
            await dispatcher.SendAsync(GridPlanner.ToCommand(studyId, spec,
                new PlannedTrial(trial.TrialId, trial.Order, trial.Width, trial.LearningRate, trial.Seed), attempt), context.CancellationToken);
        }
        if (study is not null && trial is not null && recorded.FirstOrDefault(StudyDecisions.EndsTrial) is { } end)
            log.LogInformation("Study {Name}: width {Width}, lr {LearningRate}, seed {Seed} {Outcome}",
                study.Name, trial.Width, trial.LearningRate, trial.Seed, end.GetType().Name.Replace("Trial", "").ToLowerInvariant());
    }

    /// <summary>Records a report after the ones its trainer sent before it (see <see cref="ReportSequencer"/>).</summary>
    private async Task<IReadOnlyList<object>> InOrder(ConsumeContext context, Guid? trialId, bool last, Func<Task<IReadOnlyList<object>>> record)
    {
        var position = trialId is { } id && context.Headers.Get<int>(ReportHeaders.Index) is { } index
            ? new ReportPosition(id, context.Headers.Get<int>(ReportHeaders.Attempt) ?? 1, index, last)
            : (ReportPosition?)null;
        if (position is { } waiting) await sequencer.WaitTurnAsync(waiting, context.CancellationToken);
        var recorded = await record();
        if (position is { } done) sequencer.Recorded(done);
        return recorded;
    }

    private static string WorkerOf(ConsumeContext context) =>
        "trainer@" + (context.Host?.MachineName ?? "unknown");
}

using MassTransit;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Trials;

/// <summary>Appends what trainers report to the study's stream, idempotently.</summary>
public sealed class TrialReportConsumer(StudyLedger ledger, TrialDispatcher dispatcher) :
    IConsumer<TrialStarted>, IConsumer<LossCheckpointRecorded>, IConsumer<TrialCompleted>,
    IConsumer<TrialDiverged>, IConsumer<TrialFailed>, IConsumer<TrialCancelled>, IConsumer<CoordinateCheckRecorded>
{
    public Task Consume(ConsumeContext<CoordinateCheckRecorded> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialStarted> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<LossCheckpointRecorded> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialCompleted> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialDiverged> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialFailed> context) => Record(context, context.Message.StudyId);
    public Task Consume(ConsumeContext<TrialCancelled> context) => Record(context, context.Message.StudyId);

    private async Task Record<T>(ConsumeContext<T> context, Guid studyId) where T : class
    {
        var retries = await ledger.RecordReportAsync(context.Message, WorkerOf(context), studyId, context.CancellationToken, context.MessageId?.ToString());
        // A failed attempt below the limit runs again (the failure stays in the ledger as TrialAttemptFailed).
        foreach (var retry in retries) await dispatcher.SendAsync(retry, context.CancellationToken);
    }

    private static string WorkerOf(ConsumeContext context) =>
        "trainer@" + (context.Host?.MachineName ?? "unknown");
}

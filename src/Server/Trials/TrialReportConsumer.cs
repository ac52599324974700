using MassTransit;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Trials;

/// <summary>Appends what trainers report to the study's stream, idempotently.</summary>
public sealed class TrialReportConsumer(StudyLedger ledger) :
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

    private Task Record<T>(ConsumeContext<T> context, Guid studyId) where T : class =>
        ledger.RecordReportAsync(context.Message, WorkerOf(context), studyId, context.CancellationToken, context.MessageId?.ToString());

    private static string WorkerOf(ConsumeContext context) =>
        "trainer@" + (context.Host?.MachineName ?? "unknown");
}

using MassTransit;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Intake;

/// <summary>
/// Refuses a report message larger than <see cref="ReportValidation.MaxMessageBytes"/> before it is deserialized: the
/// transport moves it aside (the queue's <c>_skipped</c>) and the refusal is logged with its size. No report of that size
/// is legitimate, and reading it would cost the Server a second or more of one of its report slots.
/// </summary>
public sealed class ReportSizeLimit(ILogger<ReportSizeLimit> log) : IFilter<ReceiveContext>
{
    public Task Send(ReceiveContext context, IPipe<ReceiveContext> next)
    {
        if (context.Body.Length is { } bytes && bytes > ReportValidation.MaxMessageBytes)
        {
            log.LogWarning("Refused a message of {Bytes:N0} bytes on {Queue} (message {MessageId}): a report is at most {Max:N0} bytes",
                bytes, context.InputAddress, context.TransportHeaders.Get<string>("MessageId"), ReportValidation.MaxMessageBytes);
            return Task.CompletedTask;
        }
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("report-size-limit");
}

using MassTransit;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Intake;

namespace ScalingLedger.Server.Outbox;

/// <summary>
/// Sends commands to the trainers: a trial's RunTrial (the reconciler sends them in the planned order, ascending width), a
/// coordinate check, a stop. The trials it sends are recorded already, so the report intake knows them without asking the
/// store (<see cref="KnownTrials"/>).
/// </summary>
public sealed class TrialDispatcher(ISendEndpointProvider send, IPublishEndpoint publish, KnownTrials known)
{
    private static readonly Uri Queue = Queues.Address(Queues.RunTrial);

    /// <summary>Sends one trial command (a retry of a failed attempt).</summary>
    public async Task SendAsync(RunTrial command, CancellationToken cancel)
    {
        var endpoint = await send.GetSendEndpoint(Queue);
        known.Remember(command.StudyId, [command.TrialId]);
        await endpoint.Send(command, cancel);
    }

    /// <summary>Queues a coordinate check for the trainers.</summary>
    public async Task CheckCoordinatesAsync(RunCoordinateCheck check, CancellationToken cancel)
    {
        var endpoint = await send.GetSendEndpoint(Queues.Address(Queues.RunCoordinateCheck));
        await endpoint.Send(check, cancel);
    }

    /// <summary>Tells every trainer to stop one run of a trial (its attempt no longer counts).</summary>
    public Task StopRunAsync(Guid studyId, Guid trialId, Guid runId, CancellationToken cancel) =>
        publish.Publish(new StopTrialRun(studyId, trialId, runId), cancel);

    /// <summary>Tells every trainer to drop the study's queued commands and stop its running trial.</summary>
    public Task StopAsync(Guid studyId, CancellationToken cancel) => publish.Publish(new StopStudyTrials(studyId), cancel);
}

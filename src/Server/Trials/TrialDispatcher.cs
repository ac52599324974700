using MassTransit;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Trials;

/// <summary>
/// Sends RunTrial commands to the trainers' queue, in the planned order (ascending width). The trials it sends are recorded
/// already, so the report consumer knows them without asking the store (<see cref="KnownTrials"/>).
/// </summary>
public sealed class TrialDispatcher(ISendEndpointProvider send, IPublishEndpoint publish, KnownTrials known)
{
    private static readonly Uri Queue = Queues.Address(Queues.RunTrial);

    public async Task DispatchAsync(Guid studyId, StudySpec spec, IEnumerable<PlannedTrial> trials, CancellationToken cancel, int attempt = 1)
    {
        var endpoint = await send.GetSendEndpoint(Queue);
        var ordered = trials.OrderBy(t => t.Order).ToList();
        known.Remember(studyId, ordered.Select(t => t.TrialId));
        foreach (var trial in ordered)
            await endpoint.Send(GridPlanner.ToCommand(studyId, spec, trial, attempt), cancel);
    }

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

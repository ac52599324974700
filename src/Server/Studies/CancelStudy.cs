using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Trials;

namespace ScalingLedger.Server.Studies;

/// <summary><c>POST /api/studies/{id}/cancel</c>: queued trials end as cancelled; every trainer stops the running ones.</summary>
public static class CancelStudy
{
    public static async Task<IResult> Handle(Guid id, HttpRequest request, StudyWriter writer, TrialDispatcher dispatcher, TimeProvider clock,
        CancellationToken cancel)
    {
        var user = request.Headers["X-Ledger-User"].FirstOrDefault() ?? "anonymous";
        var reason = request.Query["reason"].FirstOrDefault();
        StudyStatus? status = null;
        await writer.DecideAsync(id, user, null, async session =>
        {
            if (await StudyDocuments.SummaryAsync(session, id, cancel) is not { } summary) return [];
            status = summary.Status;
            var events = StudyDecisions.DecideCancel(summary, await StudyDocuments.UnfinishedTrialsAsync(session, id, cancel), user, reason, clock.GetUtcNow());
            if (events.Count > 0) status = StudyStatus.Cancelled;
            return events;
        }, cancel);
        if (status is null) return TypedResults.Problem($"No study {id}.", statusCode: StatusCodes.Status404NotFound);
        await dispatcher.StopAsync(id, cancel);
        return TypedResults.Accepted($"/api/studies/{id}", new { id, status });
    }
}

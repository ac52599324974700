using System.Security.Claims;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// <c>POST /api/studies/{id}/cancel</c> (optional JSON body <c>{"reason": "..."}</c>, or <c>?reason=</c>): queued trials
/// end as cancelled; every trainer stops the running ones. The study's owner, its managers and admins may.
/// </summary>
public static class CancelStudy
{
    public sealed record CancelRequest(string? Reason = null);

    /// <summary>The study's status after the cancel (a study that had ended already keeps its own).</summary>
    public sealed record CancelAnswer(Guid Id, StudyStatus Status);

    public static async Task<IResult> Handle(Guid id, HttpRequest request, ClaimsPrincipal principal, StudyWriter writer, TrialDispatcher dispatcher,
        LedgerQueries queries, TimeProvider clock, CancellationToken cancel)
    {
        var reason = request.Query["reason"].FirstOrDefault();
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                reason = (await request.ReadFromJsonAsync<CancelRequest>(cancel))?.Reason ?? reason;
            }
            catch (System.Text.Json.JsonException ex)
            {
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["reason"] = [$"The body is not {{\"reason\": \"...\"}}: {ex.Message}"] });
            }
        }
        if (TextRules.Problem("reason", reason, optional: true) is { } problem)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["reason"] = [$"The {problem}."] });
        if (await queries.GetSummaryAsync(id, cancel) is not { } study)
            return TypedResults.Problem($"No study {id}.", statusCode: StatusCodes.Status404NotFound);
        if (!StudyAccess.CanManage(principal, study)) return StudyAccess.Refused(study, "cancel it");

        var user = LedgerUser.NameOf(principal);
        StudyStatus? status = null;
        await writer.DecideAsync(id, user, null, async session =>
        {
            if (await StudyDocuments.SummaryAsync(session, id, cancel) is not { } summary) return [];
            status = summary.Status;
            var events = StudyDecisions.DecideCancel(summary, await StudyDocuments.UnfinishedTrialsAsync(session, id, cancel), user, reason, clock.GetUtcNow());
            if (events.Count > 0) status = StudyStatus.Cancelled;
            return events;
        }, CancellationToken.None);
        if (status is null) return TypedResults.Problem($"No study {id}.", statusCode: StatusCodes.Status404NotFound);
        // Told at once; the reconciler repeats it while the study's trials still run (a trainer that missed it hears it then).
        await dispatcher.StopAsync(id, CancellationToken.None);
        return TypedResults.Accepted($"/api/studies/{id}", new CancelAnswer(id, status.Value));
    }
}

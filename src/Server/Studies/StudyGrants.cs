using System.Security.Claims;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// <c>POST /api/studies/{id}/grants</c> <c>{"user": "...", "permission": "manage" | "none"}</c>: the owner (or a manager,
/// or an admin) lets another user manage the study, or takes it back. Recorded as an event like every change.
/// </summary>
public static class StudyGrants
{
    /// <summary>Who manages the study after the grant: its owner and the users it lets manage it.</summary>
    public sealed record ManagersAnswer(Guid Id, string Owner, IReadOnlyList<string> Managers);

    public sealed record GrantRequest(string? User, string? Permission);

    public static async Task<IResult> Handle(Guid id, GrantRequest? request, ClaimsPrincipal principal, StudyWriter writer, LedgerQueries queries,
        TimeProvider clock, CancellationToken cancel)
    {
        var errors = new Dictionary<string, string[]>();
        var grantee = request?.User?.Trim();
        if (string.IsNullOrEmpty(grantee)) errors["user"] = ["Name the user: {\"user\": \"...\", \"permission\": \"manage\"}."];
        else if (TextRules.Problem("user", grantee) is { } problem) errors["user"] = [$"The {problem}."];
        if (request?.Permission is not (StudyAccessGranted.Manage or StudyAccessGranted.None))
            errors["permission"] = [$"The permission must be \"{StudyAccessGranted.Manage}\" or \"{StudyAccessGranted.None}\"."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The grant cannot be made.");
        if (await queries.GetSummaryAsync(id, cancel) is not { } study)
            return TypedResults.Problem($"No study {id}.", statusCode: StatusCodes.Status404NotFound);
        if (!StudyAccess.CanManage(principal, study)) return StudyAccess.Refused(study, "grant access to it");

        var by = LedgerUser.NameOf(principal);
        await writer.DecideAsync(id, by, null, async session =>
            await StudyDocuments.SummaryAsync(session, id, cancel) is { } current
            && current.Managers.Contains(grantee!) != (request!.Permission == StudyAccessGranted.Manage)
                ? [new StudyAccessGranted(id, grantee!, request.Permission!, by, clock.GetUtcNow())]
                : [], cancel);
        var after = await queries.GetSummaryAsync(id, cancel);
        return TypedResults.Ok(new ManagersAnswer(id, after!.Owner, after.Managers));
    }
}

using System.Security.Claims;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Access;

/// <summary>
/// Who may manage a study (cancel it, ask for coordinate checks, let others manage it, export it whole): admins, and its owner
/// and the users it granted "manage" when they hold a writing role. A name alone grants nothing: a reader is never a manager,
/// whatever their name. Reading is for every signed-in user; defining and importing for researchers and admins.
/// </summary>
public static class StudyAccess
{
    public static bool CanManage(ClaimsPrincipal user, StudySummaryView study)
    {
        if (LedgerUser.IsAdmin(user)) return true;
        if (!user.IsInRole(LedgerRoles.Researcher)) return false;
        var name = LedgerUser.NameOf(user);
        return name == study.Owner || study.Managers.Contains(name);
    }

    public static IResult Refused(StudySummaryView study, string what) =>
        TypedResults.Problem($"Only the study's owner ({study.Owner}) and the users it lets manage it, as researchers, and admins may {what}.",
            statusCode: StatusCodes.Status403Forbidden, title: "Not yours to manage.");

    /// <summary>
    /// The owner recorded for a new study: the signed-in user with access control on (a request cannot name someone
    /// else), the owner the request names on the local ledger.
    /// </summary>
    public static string OwnerFor(ClaimsPrincipal user, string? named) =>
        LedgerUser.IsLocal(user) && named?.Trim() is { Length: > 0 } given ? given : LedgerUser.NameOf(user);
}

using System.Security.Claims;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Access;

/// <summary>
/// A failed trial's whole error (its stack, the trainer's paths and host) is for admins; everyone else reads its first
/// line (<c>Error</c>), in the API as on the site.
/// </summary>
public static class FailureDetails
{
    public static bool Sees(ClaimsPrincipal user) => LedgerUser.IsAdmin(user);

    public static StudyView Redact(StudyView view)
    {
        foreach (var trial in view.Trials) Redact(trial);
        return view;
    }

    public static TrialView Redact(TrialView trial)
    {
        trial.FailureDetail = null;
        for (var i = 0; i < trial.FailedAttempts.Count; i++) trial.FailedAttempts[i] = trial.FailedAttempts[i] with { Detail = null };
        return trial;
    }

    public static object Redact(object data) => data switch
    {
        TrialFailed f => f with { Detail = null },
        TrialAttemptFailed f => f with { Detail = null },
        _ => data,
    };
}

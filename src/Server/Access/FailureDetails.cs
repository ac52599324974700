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

    /// <summary>
    /// The study without its trials' error details: a copy (the study handed in is shared, <see cref="ReadSide.AssembledStudies"/>,
    /// and an admin reads it whole after this).
    /// </summary>
    public static StudyView Redact(StudyView view) => view with { Trials = view.Trials.Select(Redact).ToList() };

    /// <summary>The trial without its error details: a copy, or the trial itself when it has none.</summary>
    public static TrialView Redact(TrialView trial)
    {
        if (trial.FailureDetail is null && trial.FailedAttempts.TrueForAll(a => a.Detail is null)) return trial;
        var copy = trial.Copy();
        copy.FailureDetail = null;
        copy.FailedAttempts = trial.FailedAttempts.Select(a => a with { Detail = null }).ToList();
        return copy;
    }

    public static object Redact(object data) => data switch
    {
        TrialFailed f => f with { Detail = null },
        TrialAttemptFailed f => f with { Detail = null },
        _ => data,
    };
}

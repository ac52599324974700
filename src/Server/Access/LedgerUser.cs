using System.Security.Claims;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Access;

/// <summary>
/// Who a request is, as authentication established it: the name recorded on every event it causes, never a field of
/// the request.
/// </summary>
public static class LedgerUser
{
    /// <summary>The one user of a ledger without access control (loopback only).</summary>
    public const string Local = "local";

    public const int MaxNameLength = 200;

    public static string NameOf(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name }
            ? name
            : throw new InvalidOperationException("The request reached a write without an authenticated user.");

    public static bool IsAdmin(ClaimsPrincipal user) => user.IsInRole(LedgerRoles.Admin);

    /// <summary>Whether the ledger runs without access control (the request is the local user).</summary>
    public static bool IsLocal(ClaimsPrincipal user) => user.Identity?.AuthenticationType == LedgerSchemes.Local;

    public static ClaimsPrincipal Principal(string name, string role, string scheme, string? tokenId = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(ClaimTypes.Role, role) };
        if (tokenId is not null) claims.Add(new Claim(TokenClaim, tokenId));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    /// <summary>The claim naming the token a principal signed in with (so that revoking it ends its sessions).</summary>
    public const string TokenClaim = "ledger-token";
}

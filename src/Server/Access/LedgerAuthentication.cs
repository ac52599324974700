using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Access;

/// <summary>The authentication schemes' names.</summary>
public static class LedgerSchemes
{
    /// <summary><c>Authorization: Bearer sl_...</c> (the API and the command line).</summary>
    public const string Token = "ledger-token";
    /// <summary>The site's cookie, made at <c>/signin</c> from a token.</summary>
    public const string Cookie = "ledger-cookie";
    /// <summary>Chooses the token when the request carries one, the cookie otherwise.</summary>
    public const string Either = "ledger";
    /// <summary>Access control off: every (loopback) request is the local user.</summary>
    public const string Local = "ledger-local";
}

/// <summary>Authenticates a bearer API token against <see cref="ApiTokens"/>.</summary>
public sealed class TokenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, ApiTokens tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var found = await tokens.AuthenticateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (found is not { } user) return AuthenticateResult.Fail("The token is unknown, malformed or revoked.");
        return AuthenticateResult.Success(new AuthenticationTicket(LedgerUser.Principal(user.Subject, user.Role, Scheme.Name, user.TokenId),
            Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}

/// <summary>Access control off: the request is the local user, an admin (the ledger then serves loopback only).</summary>
public sealed class LocalAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(
            LedgerUser.Principal(LedgerUser.Local, LedgerRoles.Admin, Scheme.Name), Scheme.Name)));
}

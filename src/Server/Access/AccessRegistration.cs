using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Access;

/// <summary>
/// Who may do what, with ASP.NET Core's authentication and authorization. Access control on: the API takes bearer
/// tokens, the site a cookie made from one at <c>/signin</c>, and every endpoint needs a signed-in user unless it says
/// otherwise. Off (the embedded default): every request is the local user, and only this machine is served.
/// </summary>
public static class AccessRegistration
{
    public static IServiceCollection AddLedgerAccess(this IServiceCollection services, LedgerOptions ledger)
    {
        services.AddSingleton<ApiTokens>();
        var authentication = services.AddAuthentication(ledger.AccessControl ? LedgerSchemes.Either : LedgerSchemes.Local);
        var authorization = services.AddAuthorizationBuilder()
            .AddPolicy(LedgerPolicies.Read, p => p.RequireAuthenticatedUser())
            .AddPolicy(LedgerPolicies.Write, p => p.RequireRole(LedgerRoles.Researcher, LedgerRoles.Admin))
            .AddPolicy(LedgerPolicies.Admin, p => p.RequireRole(LedgerRoles.Admin));
        if (!ledger.AccessControl)
        {
            authentication.AddScheme<AuthenticationSchemeOptions, LocalAuthenticationHandler>(LedgerSchemes.Local, null);
            return services;
        }
        // Secure by default: an endpoint that says nothing needs a signed-in user.
        authorization.SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        authentication
            .AddPolicyScheme(LedgerSchemes.Either, "A token, or the site's cookie",
                o => o.ForwardDefaultSelector = c => c.Request.Headers.Authorization.Count > 0 ? LedgerSchemes.Token : LedgerSchemes.Cookie)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(LedgerSchemes.Token, null)
            .AddCookie(LedgerSchemes.Cookie, o =>
            {
                o.Cookie.Name = "ScalingLedger";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                // Secure whenever the site is reached over https: directly, or through a TLS proxy whose X-Forwarded-Proto the
                // Server believes (Ledger:TrustedProxies). Over plain http (this machine only, or a team that ignored the warning at
                // start) a Secure cookie would never come back.
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = SignIn.Path;
                o.AccessDeniedPath = SignIn.Path;
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = c => ApiOr(c, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = c => ApiOr(c, StatusCodes.Status403Forbidden);
                // A revoked token ends the sessions signed in with it.
                o.Events.OnValidatePrincipal = async c =>
                {
                    var token = c.Principal?.FindFirst(LedgerUser.TokenClaim)?.Value;
                    var tokens = c.HttpContext.RequestServices.GetRequiredService<ApiTokens>();
                    if (token is null || !await tokens.StandsAsync(token, c.HttpContext.RequestAborted))
                    {
                        c.RejectPrincipal();
                        await c.HttpContext.SignOutAsync(LedgerSchemes.Cookie);
                    }
                };
            });
        return services;
    }

    /// <summary>The API answers 401 or 403; the site goes to the sign-in page.</summary>
    private static Task ApiOr(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/api"))
            context.Response.StatusCode = status;
        else
            context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    /// <summary>Says at start how the ledger is guarded, and refuses to run unguarded on an address other machines reach.</summary>
    public static string? CheckAtStart(LedgerOptions ledger, IEnumerable<string> addresses, ILogger logger)
    {
        if (ledger.TrustedProxies.FirstOrDefault(p => !System.Net.IPAddress.TryParse(p, out _)) is { } notAnAddress)
            return $"Ledger:TrustedProxies holds '{notAnAddress}', which is not an IP address (the proxies are named by their addresses).";
        if (ledger.AccessControl)
        {
            if (ledger.AdminToken is { Length: > 0 and < 24 })
                return "Ledger:AdminToken must be at least 24 characters (make one with: openssl rand -hex 32).";
            logger.LogInformation("Access control is on: the API takes tokens, the site asks to sign in.");
            var clear = addresses.Where(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !IsLoopback(a)).ToList();
            if (clear.Count > 0 && ledger.TrustedProxies.Length == 0)
                logger.LogWarning("The ledger listens on {Addresses} over plain http: tokens and the site's session cookies would cross the network " +
                                  "in clear. Put TLS in front of it (a reverse proxy, with Ledger__TrustedProxies), see docs/operations.md, " +
                                  "team deployment.", string.Join(", ", clear));
            return null;
        }
        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (exposed.Count > 0)
            return $"Access control is off, so the ledger serves this machine only, but it was asked to listen on {string.Join(", ", exposed)}. " +
                "Listen on 127.0.0.1 (the default), or turn access control on: Ledger__AccessControl=true with Ledger__AdminToken.";
        logger.LogWarning("Access control is off: this ledger is one local user ('{User}', an admin) and serves this machine only. " +
            "A team turns it on with Ledger__AccessControl=true and Ledger__AdminToken (see docs/operations.md).", LedgerUser.Local);
        return null;
    }

    private static bool IsLoopback(string url)
    {
        var host = url.Replace("://+", "://wildcard").Replace("://*", "://wildcard");
        if (!Uri.TryCreate(host, UriKind.Absolute, out var uri)) return false;
        return uri.IsLoopback || uri.Host == "localhost";
    }
}

using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace ScalingLedger.Server.Access;

/// <summary>
/// The site's sign-in with access control on: paste a token once, get a cookie (HttpOnly, SameSite=Strict) for
/// twelve hours of use. The form carries an antiforgery token; the token itself is never stored in the browser.
/// </summary>
public static class SignIn
{
    public const string Path = "/signin";

    public static IEndpointRouteBuilder MapSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (HttpContext context, IAntiforgery antiforgery, string? returnUrl) => Page(context, antiforgery, returnUrl, null))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapPost(Path, async (HttpContext context, IAntiforgery antiforgery, ApiTokens tokens, [FromForm] string? token,
            [FromForm] string? returnUrl) =>
        {
            var found = token is { Length: > 0 } ? await tokens.AuthenticateAsync(token.Trim(), context.RequestAborted) : null;
            if (found is not { } user) return Page(context, antiforgery, returnUrl, "That token is unknown or revoked.");
            await context.SignInAsync(LedgerSchemes.Cookie, LedgerUser.Principal(user.Subject, user.Role, LedgerSchemes.Cookie, user.TokenId));
            return Results.LocalRedirect(Local(returnUrl));
        }).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/signout", async (HttpContext context) =>
        {
            await context.SignOutAsync(LedgerSchemes.Cookie);
            return Results.LocalRedirect(Path);
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>Only a path of this site (no other host, no scheme-relative URL) is followed after signing in.</summary>
    private static string Local(string? returnUrl) =>
        returnUrl is { Length: > 0 and < 2000 } url && url[0] == '/' && !url.StartsWith("//") && !url.StartsWith("/\\")
        && !url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            ? url
            : "/studies";

    private static IResult Page(HttpContext context, IAntiforgery antiforgery, string? returnUrl, string? error)
    {
        var form = antiforgery.GetAndStoreTokens(context);
        var html = HtmlEncoder.Default;
        var body = $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8" /><title>Sign in · ScalingLedger</title>
            <link rel="icon" href="data:," /><link rel="stylesheet" href="/_content/ScalingLedger.Web/ledger.css" /></head>
            <body><header class="top"><span class="brand">ScalingLedger</span></header>
            <main><div class="card signin"><h1>Sign in</h1>
            <p class="muted">Paste the API token your ledger's admin made for you. The site keeps a cookie for twelve hours, not the token.</p>
            {{(error is null ? "" : $"<p class=\"error\">{html.Encode(error)}</p>")}}
            <form method="post" action="{{Path}}">
            <input type="hidden" name="{{html.Encode(form.FormFieldName)}}" value="{{html.Encode(form.RequestToken ?? "")}}" />
            <input type="hidden" name="returnUrl" value="{{html.Encode(Local(returnUrl))}}" />
            <label>Token <input type="password" name="token" autocomplete="off" size="60" autofocus /></label>
            <button type="submit">Sign in</button></form></div></main></body></html>
            """;
        return Results.Content(body, "text/html; charset=utf-8", statusCode: error is null ? 200 : 401);
    }
}

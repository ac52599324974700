using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Access;

/// <summary>
/// What a browser may do to the ledger: writes come from the ledger's own site (or a configured origin) and carry
/// JSON (or CSV for an import), so that no other web page a team member opens can write through their browser; pages
/// may run no inline script; without access control, only this machine is served.
/// </summary>
public static class BrowserBoundary
{
    /// <summary>
    /// The site's Content-Security-Policy: scripts from the ledger alone (none inline), styles may be inline (ApexCharts
    /// sets them), nothing framed, no plugins.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseBrowserBoundary(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var ledger = context.RequestServices.GetRequiredService<IOptions<LedgerOptions>>().Value;
        // As the response starts: the exception handler clears the headers of a response it answers (BadRequestHandler's 400
        // and 413), and those keep them too.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            headers.XFrameOptions = "DENY";
            return Task.CompletedTask;
        });

        if (!ledger.AccessControl && context.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
        {
            await Refuse(context, StatusCodes.Status403Forbidden, "This ledger has no access control and serves this machine only.",
                "Turn access control on (Ledger__AccessControl=true, with Ledger__AdminToken) to serve other machines.");
            return;
        }
        // A proxy on this machine would make any client on any machine the local admin: a request a proxy forwarded is refused.
        if (!ledger.AccessControl && ForwardedHeaders.FirstOrDefault(h => context.Request.Headers.ContainsKey(h)) is { } forwarded)
        {
            await Refuse(context, StatusCodes.Status403Forbidden, "This ledger has no access control and serves this machine only.",
                $"The request came through a proxy ({forwarded}): it may be another machine's. Turn access control on " +
                "(Ledger__AccessControl=true, with Ledger__AdminToken) to serve through a proxy.");
            return;
        }
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method)
            && context.Request.Headers.Origin.ToString() is { Length: > 0 } origin && !SameOrigin(context.Request, origin, ledger))
        {
            await Refuse(context, StatusCodes.Status403Forbidden, "Writes from another site are refused.",
                $"The request came from the page of {Shorten(origin)}, not from this ledger's site. Scripts and the command line send no Origin.");
            return;
        }
        await next();
    });

    /// <summary>
    /// Requires a write's body, when it has one, to be one of <paramref name="mediaTypes"/> (415 otherwise): the media
    /// types a cross-site form or simple request cannot send. The API document says so, and that a body past the size
    /// limit is refused (413).
    /// </summary>
    public static TBuilder Accepting<TBuilder>(this TBuilder builder, params string[] mediaTypes) where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .AddEndpointFilter(async (context, next) =>
        {
            var request = context.HttpContext.Request;
            var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
            if (hasBody && !(MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
                    && mediaTypes.Any(m => type.MediaType.Equals(m, StringComparison.OrdinalIgnoreCase))))
                return TypedResults.Problem($"Send the body as {string.Join(" or ", mediaTypes)}, not {Shorten(request.ContentType ?? "no type")}.",
                    statusCode: StatusCodes.Status415UnsupportedMediaType, title: "The body's media type is not accepted here.");
            return await next(context);
        });

    /// <summary>The headers a proxy adds to what it forwards.</summary>
    private static readonly string[] ForwardedHeaders = ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "Via"];

    private static bool SameOrigin(HttpRequest request, string origin, LedgerOptions ledger) =>
        string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase)
        || ledger.AllowedOrigins.Any(o => string.Equals(origin, o.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";

    private static Task Refuse(HttpContext context, int status, string title, string detail) =>
        Results.Problem(detail, statusCode: status, title: title).ExecuteAsync(context);
}

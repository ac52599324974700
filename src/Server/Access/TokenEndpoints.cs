using System.Security.Claims;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Access;

/// <summary>
/// <c>/api/tokens</c> (admins): make a token for a user with a role (its secret is shown once), list them, revoke
/// one. <c>GET /api/me</c>: who the caller is.
/// </summary>
public static class TokenEndpoints
{
    public sealed record TokenRequest(string? Subject, string? Role);

    /// <summary>A new token: its id, its secret (in this answer only), and whom and which role it is for.</summary>
    public sealed record TokenMade(string Id, string Token, string Subject, string Role);

    /// <summary>The caller: the user's name, role, and whether access control is on.</summary>
    public sealed record Caller(string User, string? Role, bool AccessControl);

    public sealed record TokenInfo(string Id, string Subject, string Role, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt,
        string? RevokedBy)
    {
        public static TokenInfo Of(ApiToken t) => new(t.Id, t.Subject, t.Role, t.CreatedAt, t.CreatedBy, t.RevokedAt, t.RevokedBy);
    }

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/api/tokens").WithTags("Access").RequireAuthorization(LedgerPolicies.Admin).WithLedgerProblems();
        tokens.MapPost("/", Create).Accepting("application/json").WithName("createToken").Produces<TokenMade>(StatusCodes.Status201Created).WithBadRequest()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Make a token for a user and role (reader, researcher, admin); its secret is in this answer only.");
        tokens.MapGet("/", async (ApiTokens store, CancellationToken cancel) => (await store.ListAsync(cancel)).Select(TokenInfo.Of))
            .WithName("listTokens").WithSummary("Every token made, revoked or not (never their secrets).");
        tokens.MapDelete("/{id}", async (string id, ClaimsPrincipal user, ApiTokens store, TimeProvider clock, CancellationToken cancel) =>
                await store.RevokeAsync(id, LedgerUser.NameOf(user), clock, cancel)
                    ? Results.NoContent()
                    : TypedResults.Problem($"No token {id}.", statusCode: StatusCodes.Status404NotFound))
            .WithName("revokeToken").Produces(StatusCodes.Status204NoContent).WithNotFound()
            .WithSummary("Revoke a token: it and the site sessions signed in with it stop working at once.");
        app.MapGet("/api/me", (ClaimsPrincipal user) => new Caller(LedgerUser.NameOf(user), user.FindFirstValue(ClaimTypes.Role),
                user.Identity?.AuthenticationType != LedgerSchemes.Local))
            .WithTags("Access").WithLedgerProblems().WithName("getMe").WithSummary("Who the caller is, and with which role.");
        return app;
    }

    private static async Task<IResult> Create(TokenRequest? request, ClaimsPrincipal user, ApiTokens store, TimeProvider clock,
        CancellationToken cancel)
    {
        var errors = new Dictionary<string, string[]>();
        var subject = request?.Subject?.Trim();
        if (string.IsNullOrEmpty(subject)) errors["subject"] = ["Name the user the token is for."];
        else if (Domain.Studies.TextRules.Problem("subject", subject) is { } problem) errors["subject"] = [problem];
        if (!LedgerRoles.IsKnown(request?.Role)) errors["role"] = [$"The role must be one of {string.Join(", ", LedgerRoles.All)}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The token cannot be made.");
        if (await store.ConflictAsync(subject!, request!.Role!, cancel) is { } conflict)
            return TypedResults.Problem(conflict, statusCode: StatusCodes.Status409Conflict, title: "The token cannot be made for that user.");
        var made = await store.CreateAsync(subject!, request.Role!, LedgerUser.NameOf(user), clock, cancel);
        return TypedResults.Created($"/api/tokens/{made.Token.Id}", new TokenMade(made.Token.Id, made.Secret, subject!, made.Token.Role));
    }
}

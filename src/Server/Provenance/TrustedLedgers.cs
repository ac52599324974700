using System.Security.Claims;
using Marten;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Provenance;

/// <summary>A ledger whose signed exports this one takes as proven: its public key and the name admins gave it.</summary>
public sealed class TrustedLedger
{
    /// <summary>The key's fingerprint (<see cref="ExportSignature.Fingerprint"/>).</summary>
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string PublicKey { get; set; } = "";
    public string AddedBy { get; set; } = "";
    public DateTimeOffset AddedAt { get; set; }
}

/// <summary>
/// <c>GET /api/ledger</c>: this ledger's identity (its public key and fingerprint, to give to the ledgers that import from
/// it). <c>/api/trusted-ledgers</c> (admins): the ledgers whose signed exports this one takes as of proven origin. An import
/// records whether its origin was trusted at the time; removing a ledger changes no import already recorded.
/// </summary>
public static class TrustedLedgers
{
    public sealed record LedgerIdentity(string Fingerprint, string PublicKey, string Algorithm);

    public sealed record TrustRequest(string? Name, string? PublicKey);

    public sealed record TrustedLedgerInfo(string Fingerprint, string Name, string PublicKey, string AddedBy, DateTimeOffset AddedAt)
    {
        public static TrustedLedgerInfo Of(TrustedLedger t) => new(t.Id, t.Name, t.PublicKey, t.AddedBy, t.AddedAt);
    }

    /// <summary>The name a trusted ledger has here, or null when this ledger does not trust that key (its own key it always trusts).</summary>
    public static async Task<string?> TrustedNameAsync(IQuerySession session, LedgerKey own, string fingerprint, CancellationToken cancel) =>
        fingerprint == own.Fingerprint ? "this ledger" : (await session.LoadAsync<TrustedLedger>(fingerprint, cancel))?.Name;

    public static IEndpointRouteBuilder MapProvenanceEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ledger", (LedgerKey key) => TypedResults.Ok(new LedgerIdentity(key.Fingerprint, key.PublicKey, ExportSignature.Algorithm)))
            .WithTags("Provenance").RequireAuthorization(LedgerPolicies.Read).WithLedgerProblems().WithName("getLedgerIdentity")
            .WithSummary("This ledger's public key and its fingerprint: what another ledger's admin trusts to verify the studies it exports.");
        var trusted = app.MapGroup("/api/trusted-ledgers").WithTags("Provenance").RequireAuthorization(LedgerPolicies.Admin).WithLedgerProblems();
        trusted.MapGet("/", async (IDocumentStore store, CancellationToken cancel) =>
            {
                await using var session = store.QuerySession();
                return TypedResults.Ok((await session.Query<TrustedLedger>().OrderBy(t => t.AddedAt).ToListAsync(cancel)).Select(TrustedLedgerInfo.Of));
            })
            .WithName("listTrustedLedgers").WithSummary("The ledgers whose signed exports this ledger takes as of proven origin (admins).");
        trusted.MapPost("/", Trust).Accepting("application/json").WithName("trustLedger").Produces<TrustedLedgerInfo>(StatusCodes.Status201Created)
            .WithBadRequest()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Trust another ledger's signing key (its public key, as GET /api/ledger gives it there) under a name (admins).");
        trusted.MapDelete("/{fingerprint}", async (string fingerprint, IDocumentStore store, CancellationToken cancel) =>
            {
                await using var session = store.LightweightSession();
                if (await session.LoadAsync<TrustedLedger>(fingerprint, cancel) is null)
                    return (IResult)TypedResults.Problem($"No trusted ledger {fingerprint}.", statusCode: StatusCodes.Status404NotFound);
                session.Delete<TrustedLedger>(fingerprint);
                await session.SaveChangesAsync(cancel);
                return TypedResults.NoContent();
            })
            .WithName("untrustLedger").Produces(StatusCodes.Status204NoContent).WithNotFound()
            .WithSummary("Stop trusting a ledger's key (imports already recorded keep what they said).");
        return app;
    }

    private static async Task<IResult> Trust(TrustRequest? request, ClaimsPrincipal user, IDocumentStore store, TimeProvider clock,
        CancellationToken cancel)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request?.Name?.Trim();
        if (string.IsNullOrEmpty(name)) errors["name"] = ["Name the ledger (what pages and verify will call it)."];
        else if (TextRules.Problem("name", name) is { } problem) errors["name"] = [problem];
        var key = request?.PublicKey?.Trim();
        var fingerprint = key is { Length: > 0 and < 4096 } ? ExportSignature.FingerprintOf(key) : null;
        if (fingerprint is null)
            errors["publicKey"] = ["The public key must be an ECDSA P-256 key in base64 (SubjectPublicKeyInfo), as GET /api/ledger gives it."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The ledger cannot be trusted as asked.");
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<TrustedLedger>(fingerprint!, cancel) is { } known)
            return TypedResults.Problem($"Ledger {ExportSignature.Short(known.Id)} is trusted already, as '{known.Name}'.",
                statusCode: StatusCodes.Status409Conflict, title: "Trusted already.");
        var trusted = new TrustedLedger { Id = fingerprint!, Name = name!, PublicKey = key!, AddedBy = LedgerUser.NameOf(user), AddedAt = clock.GetUtcNow() };
        session.Insert(trusted);
        await session.SaveChangesAsync(cancel);
        return TypedResults.Created($"/api/trusted-ledgers/{trusted.Id}", TrustedLedgerInfo.Of(trusted));
    }
}

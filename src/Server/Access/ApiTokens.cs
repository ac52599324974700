using System.Security.Cryptography;
using System.Text;
using Marten;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Access;

/// <summary>An API token as stored: its secret only as a SHA-256 hash.</summary>
public sealed class ApiToken
{
    public string Id { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Role { get; set; } = LedgerRoles.Reader;
    public string SecretHash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }
}

/// <summary>
/// Makes, checks and revokes API tokens. A token reads <c>sl_{16 hex id}_{secret}</c>: the id finds the stored token,
/// the secret (32 random bytes, in hex) is compared by hash in constant time. The first admin's token comes from configuration
/// (<c>Ledger:AdminToken</c>) and is never stored.
/// </summary>
public sealed class ApiTokens(IDocumentStore store, Microsoft.Extensions.Options.IOptions<Hosting.LedgerOptions> options)
{
    private const string Prefix = "sl_";
    private const int IdLength = 16;

    public sealed record Created(ApiToken Token, string Secret);

    public async Task<Created> CreateAsync(string subject, string role, string createdBy, TimeProvider clock, CancellationToken cancel)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var token = new ApiToken
        {
            Id = id, Subject = subject, Role = role, SecretHash = Hash(secret), CreatedAt = clock.GetUtcNow(), CreatedBy = createdBy,
        };
        await using var session = store.LightweightSession();
        session.Insert(token);
        await session.SaveChangesAsync(cancel);
        return new Created(token, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The user a presented token stands for, or null when it is unknown, malformed or revoked.</summary>
    public async Task<(string Subject, string Role, string TokenId)?> AuthenticateAsync(string presented, CancellationToken cancel)
    {
        if (options.Value.AdminToken is { Length: > 0 } admin && SameSecret(presented, admin))
            return (options.Value.AdminName, LedgerRoles.Admin, ConfiguredAdmin(admin));
        if (presented.Length is < 3 + IdLength + 2 or > 200 || !presented.StartsWith(Prefix, StringComparison.Ordinal)
            || presented[Prefix.Length + IdLength] != '_')
            return null;
        var id = presented.Substring(Prefix.Length, IdLength);
        if (!id.All(Uri.IsHexDigit)) return null;
        await using var session = store.QuerySession();
        var token = await session.LoadAsync<ApiToken>(id, cancel);
        if (token is null || token.RevokedAt is not null) return null;
        var secret = presented[(Prefix.Length + IdLength + 1)..];
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(secret)), Encoding.ASCII.GetBytes(token.SecretHash))
            ? (token.Subject, token.Role, token.Id)
            : null;
    }

    /// <summary>
    /// Whether a signed-in session's token still stands: revoking a token ends the sessions made with it, and so does changing
    /// the configured admin token (a session made with the old one names the old one).
    /// </summary>
    public async Task<bool> StandsAsync(string tokenId, CancellationToken cancel)
    {
        if (tokenId.StartsWith(ConfiguredPrefix, StringComparison.Ordinal))
            return options.Value.AdminToken is { Length: > 0 } admin && tokenId == ConfiguredAdmin(admin);
        await using var session = store.QuerySession();
        return await session.LoadAsync<ApiToken>(tokenId, cancel) is { RevokedAt: null };
    }

    public async Task<IReadOnlyList<ApiToken>> ListAsync(CancellationToken cancel)
    {
        await using var session = store.QuerySession();
        return await session.Query<ApiToken>().OrderBy(t => t.CreatedAt).ToListAsync(cancel);
    }

    /// <summary>Revokes a token; false when there is none of that id.</summary>
    public async Task<bool> RevokeAsync(string id, string by, TimeProvider clock, CancellationToken cancel)
    {
        await using var session = store.LightweightSession();
        var token = await session.LoadAsync<ApiToken>(id, cancel);
        if (token is null) return false;
        if (token.RevokedAt is null)
        {
            token.RevokedAt = clock.GetUtcNow();
            token.RevokedBy = by;
            session.Store(token);
            await session.SaveChangesAsync(cancel);
        }
        return true;
    }

    private const string ConfiguredPrefix = "config:";

    /// <summary>The id sessions made with the configured admin token carry: which token it was, never the token.</summary>
    private static string ConfiguredAdmin(string token) =>
        ConfiguredPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("scalingledger-admin-session:" + token)))[..16];

    /// <summary>
    /// Why a token cannot be made for <paramref name="subject"/> with <paramref name="role"/>, or null. A subject is a user: one
    /// name (compared without case or compatibility forms, so that no second spelling passes for the first), one role at a time
    /// (to change it, revoke their tokens first), and never the configured admin's or the local user's name.
    /// </summary>
    public async Task<string?> ConflictAsync(string subject, string role, CancellationToken cancel)
    {
        var key = UserKey(subject);
        if (key == UserKey(options.Value.AdminName) || key == UserKey(LedgerUser.Local))
            return $"'{subject}' is the name of the configured admin or of the local user: tokens are for other users.";
        var same = (await ListAsync(cancel)).Where(t => UserKey(t.Subject) == key).ToList();
        if (same.FirstOrDefault(t => t.Subject != subject) is { } spelled)
            return $"A user is named '{spelled.Subject}' already: a user has one name (make the token for '{spelled.Subject}').";
        if (same.FirstOrDefault(t => t.RevokedAt is null && t.Role != role) is { } standing)
            return $"'{subject}' is a {standing.Role} (token {standing.Id}): a user has one role. Revoke their tokens first to make them a {role}.";
        return null;
    }

    private static string UserKey(string name) => name.Normalize(NormalizationForm.FormKC).ToLowerInvariant();

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static bool SameSecret(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(a)), SHA256.HashData(Encoding.UTF8.GetBytes(b)));
}

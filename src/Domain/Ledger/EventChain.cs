using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScalingLedger.Domain.Ledger;

/// <summary>One stored event as the chain sees it: what its hash covers, and the hash stored with it (null if none).</summary>
public sealed record ChainedEvent(long Sequence, long Version, string Type, string? User, DateTimeOffset Timestamp, string Json, string? Hash);

/// <summary>A study's chain head: the version and hash of its last hashed event, and where its chain began.</summary>
public sealed record ChainHead(long ChainedFrom, long Version, string Hash);

/// <summary>What verifying a study's chain found.</summary>
public sealed record ChainVerdict(bool Intact, long Events, long? ChainedFrom, ChainHead? Head, ChainBreak? FirstBroken)
{
    /// <summary>Events recorded before the study's chain began (by a version of the ledger that did not hash them).</summary>
    public long Unchained => ChainedFrom is { } from ? from - 1 : Events;
}

/// <summary>The first event where the chain does not hold, and why.</summary>
public sealed record ChainBreak(long Version, long? Sequence, string? Type, string Why);

/// <summary>
/// Tamper evidence for a study's events: each event's hash covers the previous event's hash and the canonical event
/// (type, stream version, user, timestamp and data), so an event edited, inserted or deleted in the database breaks
/// every hash after it. The newest hash (the head) is kept beside the events and can be copied elsewhere: a chain
/// rewritten wholesale by someone with the database no longer passes through a head kept outside it.
/// <para>
/// The data is hashed in a canonical form that the write side (the serializer's JSON) and the read side (PostgreSQL's
/// jsonb text, whose key order and spacing differ) both reach: keys in ordinal order, numbers as the shortest
/// round-trip of their double (zero without its sign), strings escaped one fixed way.
/// </para>
/// </summary>
public static class EventChain
{
    /// <summary>The hash before a chain's first event.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>The timestamp as the chain (and the store, at microseconds) keeps it.</summary>
    public static DateTimeOffset Stored(DateTimeOffset timestamp) =>
        new(timestamp.UtcTicks - timestamp.UtcTicks % 10, TimeSpan.Zero);

    public static string Hash(string previous, string type, long version, string? user, DateTimeOffset timestamp, string json)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // Each field with its length before it, so no two different events read the same.
        void Field(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            hash.AppendData(BitConverter.GetBytes((long)bytes.Length));
            hash.AppendData(bytes);
        }
        Field(previous);
        Field(type);
        Field(version.ToString(CultureInfo.InvariantCulture));
        Field(user ?? "");
        Field(Stored(timestamp).ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture));
        Field(Canonical(json));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The canonical text of a JSON value (see the class's remarks).</summary>
    public static string Canonical(string json)
    {
        var builder = new StringBuilder(json.Length);
        Write(JsonNode.Parse(json), builder);
        return builder.ToString();
    }

    private static readonly JsonSerializerOptions Strings = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void Write(JsonNode? node, StringBuilder to)
    {
        switch (node)
        {
            case null:
                to.Append("null");
                break;
            case JsonObject o:
                to.Append('{');
                var first = true;
                foreach (var (key, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) to.Append(',');
                    first = false;
                    to.Append(JsonSerializer.Serialize(key, Strings)).Append(':');
                    Write(value, to);
                }
                to.Append('}');
                break;
            case JsonArray a:
                to.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) to.Append(',');
                    Write(a[i], to);
                }
                to.Append(']');
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                // PostgreSQL's numeric has no negative zero: -0.0 is stored as 0.0 (seen in a refit's residuals).
                var number = v.GetValue<double>();
                to.Append((number == 0 ? 0.0 : number).ToString("R", CultureInfo.InvariantCulture));
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                to.Append(JsonSerializer.Serialize(v.GetValue<string>(), Strings));
                break;
            default:
                to.Append(node.ToJsonString());
                break;
        }
    }

    /// <summary>
    /// Verifies a study's events (in version order) against the head kept beside them and, if given, a head kept
    /// elsewhere (<paramref name="expected"/>: the chain must still pass through it).
    /// </summary>
    public static ChainVerdict Verify(IEnumerable<ChainedEvent> events, ChainHead? head, ChainHead? expected = null)
    {
        long count = 0, lastVersion = 0;
        long? chainedFrom = null;
        var previous = Genesis;
        ChainBreak? broken = null;
        var expectedSeen = false;
        foreach (var e in events)
        {
            count++;
            if (broken is not null) continue;
            if (e.Version != lastVersion + 1)
            {
                broken = new ChainBreak(lastVersion + 1, null, null,
                    e.Version > lastVersion + 1
                        ? $"version {lastVersion + 1} is missing: {(e.Version - lastVersion - 1 == 1 ? "an event was" : "events were")} deleted"
                        : $"version {e.Version} appears twice");
                continue;
            }
            lastVersion = e.Version;
            if (e.Hash is null)
            {
                if (chainedFrom is not null || (head is not null && e.Version >= head.ChainedFrom))
                    broken = new ChainBreak(e.Version, e.Sequence, e.Type, "it has no hash: it was written around the ledger, or its hash was removed");
                continue;
            }
            chainedFrom ??= e.Version;
            if (head is not null && chainedFrom != head.ChainedFrom)
            {
                broken = new ChainBreak(e.Version, e.Sequence, e.Type, $"the chain begins at version {chainedFrom}, but its head says {head.ChainedFrom}");
                continue;
            }
            var computed = Hash(previous, e.Type, e.Version, e.User, e.Timestamp, e.Json);
            if (computed != e.Hash)
            {
                broken = new ChainBreak(e.Version, e.Sequence, e.Type, "its content (data, type, user or time) is not what was hashed: it was edited");
                continue;
            }
            previous = computed;
            if (expected is not null && e.Version == expected.Version)
            {
                expectedSeen = true;
                if (computed != expected.Hash)
                    broken = new ChainBreak(e.Version, e.Sequence, e.Type,
                        "the chain no longer passes through the head kept outside the ledger: it was rewritten");
            }
        }
        if (broken is null && chainedFrom is not null)
        {
            if (head is null) broken = new ChainBreak(lastVersion, null, null, "the chain's head is missing");
            else if (head.Version > lastVersion)
                broken = new ChainBreak(lastVersion + 1, null, null,
                    $"the head is at version {head.Version}: the events after version {lastVersion} were deleted");
            else if (head.Version < lastVersion)
                broken = new ChainBreak(head.Version + 1, null, null, $"events after the head's version {head.Version} were added around the ledger");
            else if (head.Hash != previous) broken = new ChainBreak(lastVersion, null, null, "the head's hash is not the last event's");
        }
        else if (broken is null && head is not null)
            broken = new ChainBreak(head.ChainedFrom, null, null, $"the head says the chain begins at version {head.ChainedFrom}, but no event is hashed");
        if (broken is null && expected is not null && !expectedSeen)
            broken = new ChainBreak(expected.Version, null, null, $"version {expected.Version}, kept outside the ledger, is no longer in the chain");
        return new ChainVerdict(broken is null, count, chainedFrom, head, broken);
    }
}

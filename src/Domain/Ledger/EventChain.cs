using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScalingLedger.Domain.Ledger;

/// <summary>
/// One stored event as the chain sees it: what its hash covers, and the hash stored with it (null if none).
/// <paramref name="Sequence"/> is its global sequence in this ledger; <paramref name="Recorded"/> the sequence its data speaks in
/// (the one of the ledger it was first recorded in, for an event brought from another; this ledger's own otherwise).
/// </summary>
public sealed record ChainedEvent(long Sequence, long Version, string Type, string? User, DateTimeOffset Timestamp, string Json, string? Hash,
    long? Recorded = null)
{
    /// <summary>The sequence its data speaks in, which a replay and an audit place it at.</summary>
    public long RecordedSequence => Recorded ?? Sequence;
}

/// <summary>
/// A study's chain head: the version and hash of its last hashed event, and where its chain began. Hashes of versions from
/// <paramref name="SequencedFrom"/> on cover the event's recorded sequence too (null: none does, a chain made before they did).
/// </summary>
public sealed record ChainHead(long ChainedFrom, long Version, string Hash, long? SequencedFrom = null);

/// <summary>
/// What verifying a study's chain found. <see cref="Verifiable"/> is false when none of its events is hashed: nothing can be
/// said of them, and such a study is never called intact. <see cref="Imports"/> are the imports the chain records (events
/// brought from another ledger, by whom, from where).
/// </summary>
public sealed record ChainVerdict(bool Intact, long Events, long? ChainedFrom, ChainHead? Head, ChainBreak? FirstBroken)
{
    /// <summary>Events recorded before the study's chain began (by a version of the ledger that did not hash them).</summary>
    public long Unchained => ChainedFrom is { } from ? from - 1 : Events;

    public bool Verifiable => ChainedFrom is not null;

    public IReadOnlyList<ImportSeal> Imports { get; init; } = [];

    /// <summary>The verdict in one sentence, then one per import (for the API, the command line and the pages).</summary>
    public string Says()
    {
        var verdict = this switch
        {
            { FirstBroken: { } b } => $"Broken at version {b.Version}{(b.Type is null ? "" : $" ({b.Type})")}: {b.Why}.",
            { Verifiable: false } => $"Not verifiable: none of its {Events} events is hashed (they were recorded before the ledger chained events).",
            { ChainedFrom: > 1 } => $"Intact from version {ChainedFrom} (the {Unchained} events before were recorded before chaining).",
            _ => $"Intact: all {Events} events.",
        };
        return string.Join(" ", Imports.Select(i => i.Says()).Prepend(verdict));
    }
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

    /// <summary>
    /// The hash of one event after <paramref name="previous"/>. With <paramref name="recordedSequence"/> (every event hashed since
    /// the chain covered sequences) it covers the sequence the event's data speaks in as well: an audit and a replay place the
    /// event there, so moving it is an edit like any other.
    /// </summary>
    public static string Hash(string previous, string type, long version, string? user, DateTimeOffset timestamp, string json,
        long? recordedSequence = null)
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
        if (recordedSequence is { } sequence) Field("sequence " + sequence.ToString(CultureInfo.InvariantCulture));
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
    /// elsewhere (<paramref name="expected"/>: the chain must still pass through it). An event without a hash breaks the chain
    /// once the study's chain began, and, wherever it stands in its study, once the ledger itself began chaining
    /// (<paramref name="chainingSince"/>, a global sequence): every event recorded since was hashed. <paramref name="sealOf"/>
    /// reads an import's record (see <see cref="ImportSeal"/>): the recorded sequences of the events before it must be those
    /// it sealed.
    /// </summary>
    public static ChainVerdict Verify(IEnumerable<ChainedEvent> events, ChainHead? head, ChainHead? expected = null, long? chainingSince = null,
        Func<ChainedEvent, ImportSeal?>? sealOf = null)
    {
        long count = 0, lastVersion = 0;
        long? chainedFrom = null;
        var previous = Genesis;
        ChainBreak? broken = null;
        var expectedSeen = false;
        var sequences = new SequenceDigest();
        var imports = new List<ImportSeal>();
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
            if (sealOf?.Invoke(e) is { } seal)
            {
                if (seal.Events != e.Version - 1 || seal.SequencesSha256 != sequences.Current())
                {
                    broken = new ChainBreak(e.Version, e.Sequence, e.Type,
                        $"the sequences of the {seal.Events} events it imported are not those it recorded: an event was moved");
                    continue;
                }
                imports.Add(seal);
            }
            sequences.Add(e.Version, e.RecordedSequence);
            if (e.Hash is null)
            {
                if (chainedFrom is not null || (head is not null && e.Version >= head.ChainedFrom))
                    broken = new ChainBreak(e.Version, e.Sequence, e.Type, "it has no hash: it was written around the ledger, or its hash was removed");
                else if (chainingSince is { } since && e.Sequence >= since)
                    broken = new ChainBreak(e.Version, e.Sequence, e.Type,
                        $"it has no hash, but it was recorded after the ledger began chaining events (at sequence {since}): " +
                        "it was written around the ledger, or its hash was removed");
                continue;
            }
            chainedFrom ??= e.Version;
            if (head is not null && chainedFrom != head.ChainedFrom)
            {
                broken = new ChainBreak(e.Version, e.Sequence, e.Type, $"the chain begins at version {chainedFrom}, but its head says {head.ChainedFrom}");
                continue;
            }
            var sequenced = head?.SequencedFrom is { } from && e.Version >= from ? e.RecordedSequence : (long?)null;
            var computed = Hash(previous, e.Type, e.Version, e.User, e.Timestamp, e.Json, sequenced);
            if (computed != e.Hash)
            {
                broken = new ChainBreak(e.Version, e.Sequence, e.Type,
                    sequenced is null
                        ? "its content (data, type, user or time) is not what was hashed: it was edited"
                        : "its content (data, type, user, time or recorded sequence) is not what was hashed: it was edited or moved");
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
        return new ChainVerdict(broken is null && chainedFrom is not null, count, chainedFrom, head, broken) { Imports = imports };
    }
}

using JasperFx.Events;
using Marten;
using Npgsql;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Server.Store;

/// <summary>
/// A study's chain head, a document written in the same transaction as the events it covers (see
/// <see cref="EventChain"/>). A study recorded before chaining has none until its next event, which starts its chain.
/// </summary>
public sealed class StudyChain
{
    public Guid Id { get; set; }
    public long ChainedFrom { get; set; }
    public long Version { get; set; }
    public string Hash { get; set; } = EventChain.Genesis;
    /// <summary>
    /// Came later: the version from which each event's hash covers its recorded sequence as well (0 in a head stored before,
    /// until its study's next event).
    /// </summary>
    public long SequencedFrom { get; set; }
    /// <summary>
    /// Came later: the recorded sequence (<see cref="LedgerSequence"/>) of the study's newest event, kept so that an event
    /// appended to a study moved here from a ledger whose numbers ran ahead of this one's comes after its history (0 in a head
    /// stored before, and in a study recorded here, whose numbers are this ledger's positions).
    /// </summary>
    public long LastRecorded { get; set; }

    /// <summary>The header each chained event keeps its hash in.</summary>
    public const string Header = "chain";

    public ChainHead ToHead() => new(ChainedFrom, Version, Hash, SequencedFrom > 0 ? SequencedFrom : null);

    /// <summary>
    /// Chains events about to be appended by <paramref name="session"/> to a study whose chain is <paramref name="chain"/>
    /// (null: none yet) and whose stream is at <paramref name="streamVersion"/>: each gets its stored timestamp now, and its hash
    /// as the session saves, once the store has given it its sequence (which the hash covers); the head moves to the last and
    /// is stored with them. Returns the stream's version after them (what the append expects).
    /// </summary>
    public static long Extend(IDocumentSession session, Guid studyId, StudyChain? chain, long streamVersion, IReadOnlyList<IEvent> events,
        DateTimeOffset now)
    {
        var head = chain ?? new StudyChain { Id = studyId, ChainedFrom = streamVersion + 1 };
        if (head.SequencedFrom == 0) head.SequencedFrom = streamVersion + 1;
        head.Version = streamVersion;
        var timestamp = EventChain.Stored(now);
        foreach (var e in events) e.Timestamp = timestamp;
        session.Listeners.Add(new Seal(head, events, session.DocumentStore.Options.Serializer()));
        return streamVersion + events.Count;
    }

    /// <summary>
    /// Hashes the events as the session saves: after the store gave them their versions and sequences (appends are Rich, see
    /// LedgerStore), before their rows are written.
    /// </summary>
    private sealed class Seal(StudyChain head, IReadOnlyList<IEvent> events, ISerializer serializer) : DocumentSessionListenerBase
    {
        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
        {
            foreach (var e in events)
            {
                if (e.Sequence <= 0 || e.Version != head.Version + 1)
                    throw new InvalidOperationException($"Event {e.EventTypeName} of study {head.Id} reached the chain without its sequence, or at " +
                                                        $"version {e.Version} after the head's {head.Version}: appends must be Rich (LedgerStore).");
                head.Version = e.Version;
                // A study moved here whose history's numbers run ahead of this ledger's positions goes on from its last.
                if (e.Headers?.ContainsKey(LedgerSequence.Header) != true && head.LastRecorded >= e.Sequence)
                    e.SetHeader(LedgerSequence.Header, (head.LastRecorded + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                head.LastRecorded = Math.Max(head.LastRecorded, LedgerSequence.Of(e).Value);
                var sequenced = head.SequencedFrom > 0 && e.Version >= head.SequencedFrom ? LedgerSequence.Of(e).Value : (long?)null;
                head.Hash = EventChain.Hash(head.Version == head.ChainedFrom ? EventChain.Genesis : head.Hash, e.EventTypeName, head.Version, e.UserName,
                    e.Timestamp, serializer.ToJson(e.Data), sequenced);
                e.SetHeader(Header, head.Hash);
            }
            session.Store(head);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Verifies a study's chain from the stored rows (their JSON as PostgreSQL keeps it, streamed in version order: a
    /// study of millions of events is verified in constant memory).
    /// </summary>
    public static async Task<ChainVerdict?> VerifyAsync(IDocumentStore store, Guid studyId, ChainHead? expected, CancellationToken cancel)
    {
        var since = await LedgerChaining.SinceAsync(store, cancel);
        await using var session = store.QuerySession();
        var head = await session.LoadAsync<StudyChain>(studyId, cancel);
        await using var reader = await ReadAsync(session, studyId, cancel);
        var serializer = store.Options.Serializer();
        var verdict = EventChain.Verify(Rows(reader), head?.ToHead(), expected, since, row => SealOf(row, serializer));
        return verdict.Events == 0 ? null : verdict;
    }

    private static readonly string ImportType = JasperFx.Events.EventTypeExtensions.GetEventTypeName(typeof(Contracts.StudyEventsImported));

    /// <summary>What an import's record sealed (see <see cref="ImportSeal"/>), for a row that is one.</summary>
    public static ImportSeal? SealOf(ChainedEvent row, ISerializer serializer) =>
        row.Type == ImportType && serializer.FromJson<Contracts.StudyEventsImported>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(row.Json)))
            is { } imported
            ? ImportSeal.Of(imported)
            : null;

    /// <summary>The study's stored events in version order, as the chain sees them (read a row at a time with <see cref="Rows"/>).</summary>
    public static async Task<NpgsqlDataReader> ReadAsync(IQuerySession session, Guid studyId, CancellationToken cancel)
    {
        var connection = (NpgsqlConnection)session.Connection!;
        if (connection.State != System.Data.ConnectionState.Open) await connection.OpenAsync(cancel);
        // Not disposed here: the reader it returns is (a command holds nothing a reader does not).
        var command = new NpgsqlCommand(
            $"select seq_id, version, type, user_name, timestamp, data::text, headers->>'{Header}', " +
            $"{LedgerSequence.RecordedSql} from {LedgerStore.Schema}.mt_events " +
            "where stream_id = @id order by version", connection);
        command.Parameters.AddWithValue("id", studyId);
        return await command.ExecuteReaderAsync(cancel);
    }

    public static IEnumerable<ChainedEvent> Rows(NpgsqlDataReader reader) => RowsWithRecordedSequence(reader).Select(r => r.Row);

    /// <summary>Each row with the sequence its data speaks in (<see cref="LedgerSequence"/>), for an export.</summary>
    public static IEnumerable<(ChainedEvent Row, long Recorded)> RowsWithRecordedSequence(NpgsqlDataReader reader)
    {
        while (reader.Read())
            yield return (new ChainedEvent(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt64(7)),
                reader.GetInt64(7));
    }
}

/// <summary>
/// When the ledger began chaining its events: the global sequence of its first hashed event, recorded once it is known (a
/// document). Every event recorded since was hashed, so an unhashed one after it, in any study, was written around the ledger
/// or had its hash removed (<see cref="EventChain.Verify"/>).
/// </summary>
public sealed class LedgerChaining
{
    public const string DocumentId = "chaining";

    public string Id { get; set; } = DocumentId;
    public long Since { get; set; }
    public DateTimeOffset RecordedAt { get; set; }

    /// <summary>The sequence the ledger began chaining at, or null when none of its events is hashed yet.</summary>
    public static async Task<long?> SinceAsync(IDocumentStore store, CancellationToken cancel)
    {
        await using (var query = store.QuerySession())
            if (await query.LoadAsync<LedgerChaining>(DocumentId, cancel) is { } recorded) return recorded.Since;
        await using var session = store.LightweightSession();
        var since = (await session.QueryAsync<long>(
            $"select coalesce(min(seq_id), 0) from {LedgerStore.Schema}.mt_events where headers->>'{StudyChain.Header}' is not null", cancel)).First();
        if (since == 0) return null;
        session.Store(new LedgerChaining { Since = since, RecordedAt = DateTimeOffset.UtcNow });
        await session.SaveChangesAsync(cancel);
        return since;
    }
}

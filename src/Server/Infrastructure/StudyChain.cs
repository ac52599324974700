using Marten;
using Npgsql;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Server.Infrastructure;

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

    /// <summary>The header each chained event keeps its hash in.</summary>
    public const string Header = "chain";

    public ChainHead ToHead() => new(ChainedFrom, Version, Hash);

    /// <summary>
    /// Hashes events about to be appended to a study whose chain is <paramref name="chain"/> (null: none yet) and whose
    /// stream is at <paramref name="streamVersion"/>: each gets its stored timestamp and its hash header, and the head
    /// moves to the last. Returns the head to store with them.
    /// </summary>
    public static StudyChain Extend(Guid studyId, StudyChain? chain, long streamVersion, IEnumerable<JasperFx.Events.IEvent> events,
        ISerializer serializer, DateTimeOffset now)
    {
        var head = chain ?? new StudyChain { Id = studyId, ChainedFrom = streamVersion + 1 };
        head.Version = streamVersion;
        var timestamp = EventChain.Stored(now);
        foreach (var e in events)
        {
            head.Version++;
            e.Timestamp = timestamp;
            head.Hash = EventChain.Hash(head.Version == head.ChainedFrom ? EventChain.Genesis : head.Hash, e.EventTypeName, head.Version, e.UserName,
                timestamp, serializer.ToJson(e.Data));
            e.SetHeader(Header, head.Hash);
        }
        return head;
    }

    /// <summary>
    /// Verifies a study's chain from the stored rows (their JSON as PostgreSQL keeps it, streamed in version order: a
    /// study of millions of events is verified in constant memory).
    /// </summary>
    public static async Task<ChainVerdict?> VerifyAsync(IDocumentStore store, Guid studyId, ChainHead? expected, CancellationToken cancel)
    {
        await using var session = store.QuerySession();
        var head = await session.LoadAsync<StudyChain>(studyId, cancel);
        await using var reader = await ReadAsync(session, studyId, cancel);
        var verdict = EventChain.Verify(Rows(reader), head?.ToHead(), expected);
        return verdict.Events == 0 ? null : verdict;
    }

    /// <summary>The study's stored events in version order, as the chain sees them (read a row at a time with <see cref="Rows"/>).</summary>
    public static async Task<NpgsqlDataReader> ReadAsync(IQuerySession session, Guid studyId, CancellationToken cancel)
    {
        var connection = (NpgsqlConnection)session.Connection!;
        if (connection.State != System.Data.ConnectionState.Open) await connection.OpenAsync(cancel);
        // Not disposed here: the reader it returns is (a command holds nothing a reader does not).
        var command = new NpgsqlCommand(
            $"select seq_id, version, type, user_name, timestamp, data::text, headers->>'{Header}', " +
            $"coalesce((headers->>'{LedgerSequence.Header}')::bigint, seq_id) from {LedgerStore.Schema}.mt_events " +
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
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)), reader.GetInt64(7));
    }
}

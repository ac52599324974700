using System.Security.Claims;
using System.Text.Json;
using JasperFx.Events;
using Marten;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Provenance;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Store;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// A study taken whole to another ledger (<see cref="StudyExport"/>). <c>GET /api/studies/{id}/export</c> streams its events
/// as stored, with their hashes and recorded sequences, the chain's head, and this ledger's signature over them
/// (<see cref="ExportSignature"/>), for those who may manage the study (the events carry failure details in full).
/// <c>POST /api/studies/import-events</c> (admins: it records events under other users' names) checks the whole document
/// before storing anything: its format, every event's type and data, one study, versions 1..N, every event hashed, a chain
/// that holds from its first event to the head as exported and once its data is written back by this version, the
/// signature (an export edited after it was signed is refused), the same input rules as live events (<see cref="ImportRules"/>),
/// ids new to this ledger (an import never touches another study), and a study that has ended and is not here already.
/// Then the events are appended as they were (type, version, user, time, hash, recorded sequence), followed by this ledger's
/// record of the import (<see cref="StudyEventsImported"/>: who, when, the file's hash, the head and the origin, verified or
/// not against the ledgers it trusts), in one transaction.
/// </summary>
public static class StudyTransfer
{
    /// <summary>
    /// A study brought in: its id and name, how many events, the head it came with, who imported it, the ledger that signed
    /// it (its fingerprint, whether the signature was verified, and the name this ledger trusts it under), and in words.
    /// </summary>
    public sealed record ImportedEventsAnswer(Guid Id, string Name, int Events, ExportedHead? Head, string ImportedBy, string? Origin,
        bool OriginVerified, string? OriginName, string Says);

    public const int MaxImportBytes = 512 * 1024 * 1024;

    private static JsonSerializerOptions Json => LedgerJson.Api;

    public static async Task<IResult> Export(Guid id, HttpContext context, ClaimsPrincipal user, IDocumentStore store, LedgerKey key, HeavyReads heavy,
        TimeProvider clock, CancellationToken cancel)
    {
        StudyChain? head;
        await using (var session = store.QuerySession())
        {
            if (await StudyDocuments.SummaryAsync(session, id, cancel) is not { } study) return TypedResults.Problem($"No study {id}.", statusCode: 404);
            if (!StudyAccess.CanManage(user, study)) return StudyAccess.Refused(study, "export it (its events carry failure details in full)");
            head = await session.LoadAsync<StudyChain>(id, cancel);
        }
        // The whole study is read: it takes turns with the other reads of whole studies, until its last byte is sent.
        if (await heavy.EnterAsync(cancel) is not { } turn) return HeavyReads.Busy(context);
        context.Response.RegisterForDispose(turn);
        var exportedAt = clock.GetUtcNow();
        return Results.Stream(async body =>
        {
            // Streamed a row at a time: a study of millions of events is exported in constant memory.
            await using var writer = new Utf8JsonWriter(body);
            writer.WriteStartObject();
            writer.WriteString("format", StudyExport.CurrentFormat);
            writer.WriteString("studyId", id);
            writer.WriteString("exportedAt", exportedAt);
            // By hand, as the rest: the serializer would flush the writer synchronously, which the response refuses.
            if (head is null) writer.WriteNull("head");
            else
            {
                writer.WriteStartObject("head");
                writer.WriteNumber("chainedFrom", head.ChainedFrom);
                writer.WriteNumber("version", head.Version);
                writer.WriteString("hash", head.Hash);
                if (head.SequencedFrom > 0) writer.WriteNumber("sequencedFrom", head.SequencedFrom);
                writer.WriteEndObject();
            }
            writer.WriteStartArray("events");
            var sequences = new SequenceDigest();
            long count = 0;
            await using (var session = store.QuerySession())
            await using (var reader = await StudyChain.ReadAsync(session, id, cancel))
                foreach (var (e, recorded) in StudyChain.RowsWithRecordedSequence(reader))
                {
                    // What the head covers: events appended since it was read are left for the next export.
                    if (head is not null && e.Version > head.Version) break;
                    sequences.Add(e.Version, recorded);
                    count++;
                    writer.WriteStartObject();
                    writer.WriteNumber("version", e.Version);
                    writer.WriteNumber("sequence", recorded);
                    writer.WriteString("type", e.Type);
                    writer.WriteString("timestamp", e.Timestamp);
                    if (e.User is null) writer.WriteNull("user");
                    else writer.WriteString("user", e.User);
                    writer.WritePropertyName("data");
                    writer.WriteRawValue(e.Json, skipInputValidation: true);
                    if (e.Hash is null) writer.WriteNull("hash");
                    else writer.WriteString("hash", e.Hash);
                    writer.WriteEndObject();
                    if (writer.BytesPending > 64 * 1024) await writer.FlushAsync(cancel);
                }
            writer.WriteEndArray();
            // After the events: the signature covers their sequences, known once they are written.
            if (head is not null)
            {
                var statement = ExportSignature.Statement(id, exportedAt, head.ToHead(), sequences.Current(), count);
                writer.WriteStartObject("origin");
                writer.WriteString("ledger", key.Fingerprint);
                writer.WriteString("publicKey", key.PublicKey);
                writer.WriteString("signature", key.Sign(statement));
                writer.WriteString("algorithm", ExportSignature.Algorithm);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            await writer.FlushAsync(cancel);
        }, "application/json", $"study-{id}.events.json");
    }

    public static async Task<IResult> Import(HttpRequest request, ClaimsPrincipal user, IDocumentStore store, StudyWriter writer, LedgerKey key,
        TimeProvider clock, CancellationToken cancel)
    {
        if (request.ContentLength is > MaxImportBytes) return TooLarge();
        StudyExport? export;
        using var file = new HashingStream(request.Body);
        try
        {
            export = await JsonSerializer.DeserializeAsync<StudyExport>(file, Json, cancel);
        }
        catch (JsonException ex)
        {
            return Refused("body", $"This is not a study export (as `ledger export --format events` writes): {ex.Message}");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(); // a body sent without its length, past the limit
        }
        if (export?.Format is null)
            return Refused("format", "This is not a study export (as `ledger export --format events` writes): it names no format.");
        if (!StudyExport.Readable.Contains(export.Format))
            return Refused("format", $"The format is '{Shorten(export.Format)}'; this ledger reads {string.Join(" and ", StudyExport.Readable)}.");
        if (export.Events is not { Count: > 0 }) return Refused("events", "The export holds no event.");
        if (export.Head is not { ChainedFrom: 1 } exportedHead || export.Events.Any(e => e?.Hash is null))
            return Refused("events", "Every event of an imported study must be hash-chained from its first: this export holds events that are not " +
                                     "(recorded before the ledger chained events, or with their hashes removed), so nothing proves them.");

        var serializer = store.Options.Serializer();
        var problems = new List<string>();
        var read = new List<(ExportedEvent Stored, object Data)>();
        foreach (var (e, i) in export.Events.Select((e, i) => (e, i)))
        {
            if (problems.Count >= ImportRules.MaxProblems) break;
            var at = $"Event {i + 1} (version {e.Version}, {Shorten(e.Type ?? "no type")})";
            if (e.Version != i + 1) problems.Add($"{at}: versions must run 1, 2, 3... in order; this one should be {i + 1}.");
            if (e.Sequence is not > 0 || (i > 0 && e.Sequence <= export.Events[i - 1].Sequence))
                problems.Add($"{at}: its sequence in the ledger it was recorded in must be a whole number above the previous event's.");
            if (!Types.TryGetValue(e.Type ?? "", out var type))
            {
                problems.Add($"{at}: this ledger knows no event of that type.");
                continue;
            }
            try
            {
                if (serializer.FromJson(type, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(e.Data.GetRawText()))) is { } data)
                    read.Add((e, data));
                else problems.Add($"{at}: it has no data.");
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
            {
                problems.Add($"{at}: its data does not read as {type.Name}: {ex.Message.Split('\n')[0]}");
            }
        }
        if (problems.Count > 0) return Refused("events", problems);
        // The same rules as the events this ledger records itself, and one study throughout.
        problems.AddRange(ImportRules.Problems(export.StudyId, read.Select(r => new ImportedEvent(r.Stored.Version, r.Data, r.Stored.User)).ToList()));
        if (problems.Count > 0) return Refused("events", problems);

        var head = new ChainHead(exportedHead.ChainedFrom, exportedHead.Version, exportedHead.Hash, exportedHead.SequencedFrom);
        // The chain as exported, then as this version writes the data back: what is stored here must verify as it did there.
        ChainVerdict exported;
        try
        {
            exported = EventChain.Verify(read.Select(r => Row(r.Stored, r.Stored.Data.GetRawText())), head);
        }
        catch (ArgumentException ex)
        {
            // The chain's canonical form reads each key once: data that gives one twice is ambiguous.
            return Refused("events", $"An event's data gives a key twice ({ex.Message}): which value was meant cannot be told. Nothing was imported.");
        }
        if (!exported.Intact)
            return Refused("events",
                $"The export's chain is broken at version {exported.FirstBroken!.Version}: {exported.FirstBroken.Why}. Nothing was imported.");
        var rewritten = EventChain.Verify(read.Select(r => Row(r.Stored, serializer.ToJson(r.Data))), head);
        if (!rewritten.Intact)
            return Refused("events", $"Event version {rewritten.FirstBroken!.Version} ({rewritten.FirstBroken.Type}) does not read back as it was hashed " +
                "in this version of the ledger: importing it would break its chain. Nothing was imported.");

        // Who exported it: a signature that does not hold means the export was changed after it was signed.
        var sequences = SequenceDigest.Of(read.Select(r => (r.Stored.Version, r.Stored.Sequence!.Value)));
        if (export.Origin is { } origin)
        {
            var statement = ExportSignature.Statement(export.StudyId, export.ExportedAt, head, sequences, read.Count);
            if (ExportSignature.FingerprintOf(origin.PublicKey ?? "") != origin.Ledger || origin.Algorithm != ExportSignature.Algorithm
                || !ExportSignature.Verifies(origin.PublicKey!, statement, origin.Signature ?? ""))
                return Refused("origin", $"The export's signature does not hold for its content: it was changed after ledger " +
                                         $"{Shorten(origin.Ledger ?? "?")} signed it, or the signature is not that ledger's. Nothing was imported.");
        }

        StudySummaryView? summary = null;
        foreach (var (_, data) in read) summary = StudyProjection.ApplySummary(summary, data, RecordedSequence.Start);
        if (summary!.Status == StudyStatus.Running)
            return Refused("events", $"Study '{summary.Name}' is still running in the ledger it came from: its trials would train in two ledgers. " +
                "Let it complete (or cancel it) there, then export it again.");

        await using var session = store.QuerySession();
        if (await session.Events.FetchStreamStateAsync(export.StudyId, cancel) is not null)
            return TypedResults.Problem($"Study {export.StudyId} ('{summary.Name}') is already in this ledger.", statusCode: StatusCodes.Status409Conflict,
                title: "Already here.");
        // Confined to its own study: no trial, fit, prediction or check it brings may be another study's here.
        var taken = await StudyDocuments.TakenAsync(session, ImportRules.IdsOf(read.Select(r => r.Data)), ImportRules.MaxProblems, cancel);
        if (taken.Count > 0) return Refused("events", [.. taken.Select(t => $"The export's {t}: an import may not touch another study.")]);

        var originName = export.Origin is { } signed ? await TrustedLedgers.TrustedNameAsync(session, key, signed.Ledger, cancel) : null;
        var importer = LedgerUser.NameOf(user);
        var now = clock.GetUtcNow();
        var record = new StudyEventsImported(export.StudyId, read.Count, importer, now, file.Sha256(), export.Format, export.ExportedAt,
            exportedHead, sequences, export.Origin?.Ledger, export.Origin?.PublicKey, export.Origin?.Signature, originName is not null, originName);
        // The import's record is this ledger's first event of the study, chained on from the exported head; the study's history
        // goes on here from its last recorded sequence, whatever this ledger's positions.
        var chain = new StudyChain
        {
            Id = export.StudyId, ChainedFrom = head.ChainedFrom, Version = head.Version, Hash = head.Hash, SequencedFrom = head.SequencedFrom ?? 0,
            LastRecorded = read.Count > 0 ? read[^1].Stored.Sequence!.Value : 0,
        };
        await writer.StartMovedAsync(export.StudyId,
            read.Select(r => new StudyWriter.MovedEvent(r.Data, r.Stored.User, r.Stored.Timestamp, r.Stored.Hash!, r.Stored.Sequence!.Value)).ToList(),
            record, importer, chain, cancel);
        return TypedResults.Created($"/api/studies/{export.StudyId}", new ImportedEventsAnswer(export.StudyId, summary.Name, read.Count, export.Head,
            importer, export.Origin?.Ledger, record.OriginVerified, originName, ImportSeal.Of(record).Says()));
    }

    /// <summary>Every study event type by the name the ledger stores it under.</summary>
    private static readonly IReadOnlyDictionary<string, Type> Types =
        LedgerProjections.StudyEventTypes.ToDictionary(EventTypeExtensions.GetEventTypeName, t => t);

    private static ChainedEvent Row(ExportedEvent e, string json) => new(0, e.Version, e.Type, e.User, e.Timestamp, json, e.Hash, e.Sequence);

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";

    private static IResult Refused(string field, string problem) => Refused(field, [problem]);

    private static IResult TooLarge() =>
        TypedResults.Problem($"The export must be at most {MaxImportBytes / 1024 / 1024} MiB; nothing was stored.",
            statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large.");

    private static IResult Refused(string field, IReadOnlyList<string> problems) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [.. problems] },
            title: $"The export cannot be imported ({problems.Count} problem(s)); nothing was stored.");

    /// <summary>Reads a request body on, keeping the SHA-256 of every byte read (the imported file's hash).</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly System.Security.Cryptography.IncrementalHash hash =
            System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);

        public string Sha256() => Convert.ToHexStringLower(hash.GetCurrentHash());

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            hash.AppendData(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The body is read asynchronously.");
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) hash.Dispose();
            base.Dispose(disposing);
        }
    }
}

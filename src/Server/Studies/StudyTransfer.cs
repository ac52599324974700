using System.Security.Claims;
using System.Text.Json;
using JasperFx.Events;
using Marten;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Infrastructure;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// A study taken whole to another ledger (<see cref="StudyExport"/>). <c>GET /api/studies/{id}/export</c> streams its events
/// as stored, with their hashes and the chain's head (for those who may manage the study: the events carry failure details
/// in full). <c>POST /api/studies/import-events</c> (admins: it records events under other users' names) checks the whole
/// document before storing anything: its format, every event's type and data, one study, versions 1..N, a chain that holds
/// from its first event to the head, a chain that still holds once its data is written back by this version, a study that
/// has ended (one still running would train in two ledgers) and is not here already. Then the events are appended as they
/// were (type, version, user, time, hash), in one transaction.
/// </summary>
public static class StudyTransfer
{
    public const int MaxImportBytes = 512 * 1024 * 1024;

    /// <summary>The most problems one refused import names (the rest are counted).</summary>
    private const int MaxProblems = 20;

    private static JsonSerializerOptions Json => LedgerJson.Api;

    public static async Task<IResult> Export(Guid id, ClaimsPrincipal user, IDocumentStore store, TimeProvider clock, CancellationToken cancel)
    {
        StudyChain? head;
        await using (var session = store.QuerySession())
        {
            if (await StudyDocuments.SummaryAsync(session, id, cancel) is not { } study) return TypedResults.Problem($"No study {id}.", statusCode: 404);
            if (!StudyAccess.CanManage(user, study)) return StudyAccess.Refused(study, "export it (its events carry failure details in full)");
            head = await session.LoadAsync<StudyChain>(id, cancel);
        }
        return Results.Stream(async body =>
        {
            // Streamed a row at a time: a study of millions of events is exported in constant memory.
            await using var writer = new Utf8JsonWriter(body);
            writer.WriteStartObject();
            writer.WriteString("format", StudyExport.CurrentFormat);
            writer.WriteString("studyId", id);
            writer.WriteString("exportedAt", clock.GetUtcNow());
            // By hand, as the rest: the serializer would flush the writer synchronously, which the response refuses.
            if (head is null) writer.WriteNull("head");
            else
            {
                writer.WriteStartObject("head");
                writer.WriteNumber("chainedFrom", head.ChainedFrom);
                writer.WriteNumber("version", head.Version);
                writer.WriteString("hash", head.Hash);
                writer.WriteEndObject();
            }
            writer.WriteStartArray("events");
            await using var session = store.QuerySession();
            await using var reader = await StudyChain.ReadAsync(session, id, cancel);
            foreach (var (e, recorded) in StudyChain.RowsWithRecordedSequence(reader))
            {
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
            writer.WriteEndObject();
            await writer.FlushAsync(cancel);
        }, "application/json", $"study-{id}.events.json");
    }

    public static async Task<IResult> Import(HttpRequest request, ClaimsPrincipal user, IDocumentStore store, LedgerChanges changes,
        CancellationToken cancel)
    {
        if (request.ContentLength is > MaxImportBytes) return TooLarge();
        StudyExport? export;
        try
        {
            export = await JsonSerializer.DeserializeAsync<StudyExport>(request.Body, Json, cancel);
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
        if (export.Format != StudyExport.CurrentFormat)
            return Refused("format", $"The format is '{export.Format}'; this ledger reads '{StudyExport.CurrentFormat}'.");
        if (export.Events is not { Count: > 0 }) return Refused("events", "The export holds no event.");

        var serializer = store.Options.Serializer();
        var problems = new List<string>();
        var read = new List<(ExportedEvent Stored, object Data)>();
        foreach (var (e, i) in export.Events.Select((e, i) => (e, i)))
        {
            if (problems.Count >= MaxProblems) break;
            var at = $"Event {i + 1} (version {e.Version}, {e.Type})";
            if (e.Version != i + 1) problems.Add($"{at}: versions must run 1, 2, 3... in order; this one should be {i + 1}.");
            if (e.Sequence is not > 0 || (i > 0 && e.Sequence <= export.Events[i - 1].Sequence))
                problems.Add($"{at}: its sequence in the ledger it was recorded in must be a whole number above the previous event's.");
            if (!Types.TryGetValue(e.Type ?? "", out var type))
            {
                problems.Add($"{at}: this ledger knows no event of that type.");
                continue;
            }
            object? data;
            try
            {
                data = serializer.FromJson(type, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(e.Data.GetRawText())));
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
            {
                problems.Add($"{at}: its data does not read as {type.Name}: {ex.Message.Split('\n')[0]}");
                continue;
            }
            if (data is not IStudyEvent studyEvent || studyEvent.StudyId != export.StudyId)
                problems.Add($"{at}: it is about another study than {export.StudyId}.");
            else if (i == 0 && data is not (StudyDefined or StudyImported))
                problems.Add($"{at}: a study's first event defines or imports it.");
            else read.Add((e, data));
        }
        if (problems.Count > 0) return Refused("events", problems);

        var head = export.Head is { } h ? new ChainHead(h.ChainedFrom, h.Version, h.Hash) : null;
        // The chain as exported, then as this version writes the data back: what is stored here must verify as it did there.
        var exported = EventChain.Verify(read.Select(r => Row(r.Stored, r.Stored.Data.GetRawText())), head);
        if (!exported.Intact)
            return Refused("events",
                $"The export's chain is broken at version {exported.FirstBroken!.Version}: {exported.FirstBroken.Why}. Nothing was imported.");
        var rewritten = EventChain.Verify(read.Select(r => Row(r.Stored, serializer.ToJson(r.Data))), head);
        if (!rewritten.Intact)
            return Refused("events", $"Event version {rewritten.FirstBroken!.Version} ({rewritten.FirstBroken.Type}) does not read back as it was hashed " +
                "in this version of the ledger: importing it would break its chain. Nothing was imported.");

        StudySummaryView? summary = null;
        foreach (var (e, data) in read) summary = StudyProjection.ApplySummary(summary, data, e.Version);
        if (summary!.Status == StudyStatus.Running)
            return Refused("events", $"Study '{summary.Name}' is still running in the ledger it came from: its trials would train in two ledgers. " +
                "Let it complete (or cancel it) there, then export it again.");

        await using var session = store.LightweightSession();
        if (await session.Events.FetchStreamStateAsync(export.StudyId, cancel) is not null)
            return TypedResults.Problem($"Study {export.StudyId} ('{summary.Name}') is already in this ledger.", statusCode: StatusCodes.Status409Conflict,
                title: "Already here.");
        session.CorrelationId = export.StudyId.ToString();
        var events = read.Select(r =>
        {
            var e = session.Events.BuildEvent(r.Data);
            e.UserName = r.Stored.User;
            e.Timestamp = r.Stored.Timestamp;
            if (r.Stored.Hash is { } hash) e.SetHeader(StudyChain.Header, hash);
            // Where it was recorded: the sequences in its data (a fit's evidence, an observation) are that ledger's.
            e.SetHeader(LedgerSequence.Header, r.Stored.Sequence!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return (object)e;
        }).ToArray();
        session.Events.StartStream(export.StudyId, events);
        if (head is not null)
            session.Store(new StudyChain { Id = export.StudyId, ChainedFrom = head.ChainedFrom, Version = head.Version, Hash = head.Hash });
        await session.SaveChangesAsync(cancel);
        changes.Raise(export.StudyId);
        return TypedResults.Created($"/api/studies/{export.StudyId}",
            new { id = export.StudyId, name = summary.Name, events = read.Count, head = export.Head, importedBy = LedgerUser.NameOf(user) });
    }

    /// <summary>Every study event type by the name the ledger stores it under.</summary>
    private static readonly IReadOnlyDictionary<string, Type> Types =
        LedgerProjections.StudyEventTypes.ToDictionary(EventTypeExtensions.GetEventTypeName, t => t);

    private static ChainedEvent Row(ExportedEvent e, string json) => new(0, e.Version, e.Type, e.User, e.Timestamp, json, e.Hash);

    private static IResult Refused(string field, string problem) => Refused(field, [problem]);

    private static IResult TooLarge() =>
        TypedResults.Problem($"The export must be at most {MaxImportBytes / 1024 / 1024} MiB; nothing was stored.",
            statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large.");

    private static IResult Refused(string field, IReadOnlyList<string> problems) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [.. problems] },
            title: $"The export cannot be imported ({problems.Count} problem(s)); nothing was stored.");
}

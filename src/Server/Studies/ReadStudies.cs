using System.Globalization;
using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Store;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>The read endpoints of <c>/api/studies</c>.</summary>
public static class ReadStudies
{
    /// <summary>
    /// An event as stored: its ledger position (<c>sequence</c>, what <c>?after=</c> takes) and, where the study's history
    /// places it (what <c>?asOf=</c> takes), <c>recordedSequence</c>: the same unless the study was moved here.
    /// </summary>
    public sealed record StoredEvent(long Sequence, Guid Stream, long Version, string Type, DateTimeOffset Timestamp, string? User, object Data,
        long RecordedSequence);

    /// <summary>Whether a study's chain is intact, where it first breaks, the head to keep, and in words.</summary>
    public sealed record VerifyAnswer(bool Intact, bool Verifiable, long Events, long? ChainedFrom, long Unchained, Domain.Ledger.ChainHead? Head,
        Domain.Ledger.ChainBreak? FirstBroken, IReadOnlyList<Domain.Ledger.ImportSeal> Imports, string Says);

    /// <summary>A fit with the sequence of the study's history it was recorded at (what <c>?asOf=</c> takes).</summary>
    public sealed record FitAt(long Sequence, LawFitted Fit);

    /// <summary>A page of the studies, newest first (<c>?offset=&amp;limit=</c>); the next page is named in the <c>Link</c> header.</summary>
    public static async Task<IResult> List(HttpContext context, LedgerQueries queries, CancellationToken cancel, string? offset = null, string? limit = null)
    {
        var errors = new Dictionary<string, string[]>();
        var from = 0;
        var page = StudyPages.Default;
        if (offset is not null && !int.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out from))
            errors["offset"] = ["offset is how many studies to pass over: a whole number, 0 or more."];
        if (limit is not null && !(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out page) && page is >= 1 and <= StudyPages.Max))
            errors["limit"] = [$"limit is a whole number from 1 to {StudyPages.Max:N0}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var studies = await queries.ListStudiesAsync(from, page, cancel);
        if (studies.Count == page) context.Response.Headers.Link = $"</api/studies?offset={from + page}&limit={page}>; rel=\"next\"";
        return TypedResults.Ok(studies);
    }

    public static async Task<IResult> Get(Guid id, HttpRequest request, ClaimsPrincipal user, LedgerQueries queries, HeavyReads heavy, CancellationToken cancel)
    {
        // A sequence of the study's history: for a study moved here, of the ledger it was recorded in (as its data and documents).
        RecordedSequence? asOf = null;
        if (request.Query["asOf"].FirstOrDefault() is { } raw)
        {
            if (!long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["asOf"] = [$"asOf must be a non-negative event sequence, got '{raw}'."] });
            asOf = new RecordedSequence(parsed);
        }
        // A study of thousands of trials holds millions of checkpoints: ?checkpoints=last or none leaves the curves out.
        var detail = request.Query["checkpoints"].FirstOrDefault() switch
        {
            null or "all" => TrialDetail.AllCheckpoints,
            "last" => TrialDetail.LastCheckpoint,
            "none" => TrialDetail.NoCheckpoints,
            var other => (TrialDetail?)null,
        };
        if (detail is null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["checkpoints"] = ["checkpoints is all (the default), last or none."] });
        // A replay folds the study's events, and every curve of a large study is millions of points: those take turns.
        using var turn = asOf is not null || detail == TrialDetail.AllCheckpoints ? await heavy.EnterAsync(cancel) : Nothing.Instance;
        if (turn is null) return HeavyReads.Busy(request.HttpContext);
        var view = await queries.GetStudyAsync(id, asOf, detail.Value, cancel);
        return view is null
            ? TypedResults.Problem(asOf is null ? $"No study {id}." : $"Study {id} did not exist at sequence {asOf}.", statusCode: 404)
            : TypedResults.Ok(FailureDetails.Sees(user) ? view : FailureDetails.Redact(view));
    }

    /// <summary>The most events one answer of <c>/events</c> holds; the next page is named in the <c>Link</c> header.</summary>
    public const int MaxEventsPerPage = 10_000;

    public static async Task<IResult> Events(Guid id, HttpContext context, ClaimsPrincipal user, LedgerQueries queries, CancellationToken cancel,
        string? after = null, string? limit = null)
    {
        var errors = new Dictionary<string, string[]>();
        long from = 0;
        var page = MaxEventsPerPage;
        // Pages go by this ledger's positions: a moved study's events sit here in the order they were recorded, at other numbers.
        if (after is not null && !(long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out from)))
            errors["after"] = ["after is a global event sequence: a whole number, 0 or more."];
        if (limit is not null && !(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out page) && page is >= 1 and <= MaxEventsPerPage))
            errors["limit"] = [$"limit is a whole number from 1 to {MaxEventsPerPage:N0}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var events = await queries.GetEventsPageAsync(id, new LedgerPosition(from), page, cancel);
        if (events is null) return TypedResults.Problem($"No study {id}.", statusCode: 404);
        if (events.Count == page)
            context.Response.Headers.Link = $"</api/studies/{id}/events?after={events[^1].Sequence}&limit={page}>; rel=\"next\"";
        var sees = FailureDetails.Sees(user);
        return TypedResults.Ok(events.Select(e => new StoredEvent(e.Sequence, e.StreamId, e.Version, e.EventType.Name, e.Timestamp, e.UserName,
            sees ? e.Data : FailureDetails.Redact(e.Data), LedgerSequence.Of(e).Value)));
    }

    /// <summary>Whether the study's hash-chained events are intact (see <see cref="Domain.Ledger.EventChain"/>).</summary>
    public static async Task<IResult> Verify(Guid id, IDocumentStore store, CancellationToken cancel, string? expect = null)
    {
        Domain.Ledger.ChainHead? expected = null;
        if (expect is not null)
        {
            var parts = expect.Split(':');
            if (parts.Length != 2 || !long.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var version) || version < 1
                || parts[1].Length != 64 || !parts[1].All(Uri.IsHexDigit))
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["expect"] = ["expect is a head kept earlier, VERSION:HASH (as verify gave it: head.version and head.hash)."],
                });
            expected = new Domain.Ledger.ChainHead(0, version, parts[1].ToLowerInvariant());
        }
        var verdict = await Store.StudyChain.VerifyAsync(store, id, expected, cancel);
        if (verdict is null) return TypedResults.Problem($"No study {id}.", statusCode: 404);
        return TypedResults.Ok(new VerifyAnswer(verdict.Intact, verdict.Verifiable, verdict.Events, verdict.ChainedFrom, verdict.Unchained, verdict.Head,
            verdict.FirstBroken, verdict.Imports, verdict.Says()));
    }

    /// <summary>
    /// Every fit ever made, oldest first, each with its whole evidence (reassembled where it is by reference) and the sequence
    /// of the study's history it was recorded at (what <c>?asOf=</c> takes).
    /// </summary>
    public static async Task<IResult> Fits(Guid id, HttpContext context, LedgerQueries queries, HeavyReads heavy, CancellationToken cancel)
    {
        using var turn = await heavy.EnterAsync(cancel);
        if (turn is null) return HeavyReads.Busy(context);
        var events = await queries.GetFitEventsAsync(id, cancel);
        if (events is null) return TypedResults.Problem($"No study {id}.", statusCode: 404);
        StudyLawsView? laws = null;
        var fits = new List<FitAt>();
        foreach (var e in events.Where(e => e.Data is LawFitted))
        {
            var at = LedgerSequence.Of(e);
            laws = StudyProjection.ApplyLaws(laws, id, e.Data, at);
            var recorded = (LawFitted)e.Data;
            fits.Add(new FitAt(at.Value, laws.LatestFits.First(f => f.FitId == recorded.FitId)));
        }
        return TypedResults.Ok(fits);
    }

    public static async Task<IResult> CoordinateChecks(Guid id, LedgerQueries queries, CancellationToken cancel) =>
        await queries.GetCoordinateChecksAsync(id, cancel) is { } checks
            ? TypedResults.Ok(checks)
            : TypedResults.Problem($"No study {id}.", statusCode: 404);
}

/// <summary>A turn that holds nothing (a read light enough to need none).</summary>
internal sealed class Nothing : IDisposable
{
    public static readonly Nothing Instance = new();

    public void Dispose() { }
}

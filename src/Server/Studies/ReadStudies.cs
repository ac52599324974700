using Marten;
using Microsoft.AspNetCore.Mvc;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// Reads of the ledger for the API and the pages. Each loads the documents it shows; <c>?asOf=</c> folds the study's events
/// up to that sequence with the same folds that keep the documents.
/// </summary>
public sealed class LedgerQueries(IDocumentStore store) : ILedgerQueries
{
    public async Task<IReadOnlyList<StudySummary>> ListStudiesAsync(CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var summaries = await session.Query<StudySummaryView>().OrderByDescending(v => v.DefinedAt).ToListAsync(cancel);
        var counts = await StudyDocuments.CountsAsync(session, null, cancel);
        return summaries.Select(s => StudySummary.Of(s, counts.GetValueOrDefault(s.Id) ?? [])).ToList();
    }

    /// <summary>For the pages: trials carry only their newest checkpoint.</summary>
    public Task<StudyView?> GetStudyAsync(Guid id, long? asOf = null, CancellationToken cancel = default) =>
        GetStudyAsync(id, asOf, TrialDetail.LastCheckpoint, cancel);

    public async Task<StudyView?> GetStudyAsync(Guid id, long? asOf, TrialDetail detail, CancellationToken cancel)
    {
        await using var session = store.QuerySession();
        return asOf is { } sequence
            ? await StudyDocuments.StudyAsOfAsync(session, id, sequence, cancel)
            : await StudyDocuments.StudyAsync(session, id, detail, cancel);
    }

    public async Task<(StudySummaryView Study, TrialView Trial)?> GetTrialAsync(Guid studyId, Guid trialId, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var summary = await StudyDocuments.SummaryAsync(session, studyId, cancel);
        var trial = await session.LoadAsync<TrialView>(trialId, cancel);
        return summary is not null && trial is not null && trial.StudyId == studyId ? (summary, trial) : null;
    }

    public async Task<IReadOnlyList<(object Data, long Sequence)>> GetReplayEventsAsync(Guid id, long after = 0, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId == id && e.Sequence > after && e.EventTypeName != CheckpointType)
            .OrderBy(e => e.Sequence).ToListAsync(cancel);
        return events.Select(e => (e.Data, e.Sequence)).ToList();
    }

    private static readonly string CheckpointType = JasperFx.Events.EventTypeExtensions.GetEventTypeName(typeof(LossCheckpointRecorded));

    public async Task<(ComparisonView Comparison, IReadOnlyList<StudyView> Studies, IReadOnlyList<Guid> Missing)> CompareAsync(IReadOnlyList<Guid> ids, CancellationToken cancel = default)
    {
        var found = new List<StudyView>();
        var missing = new List<Guid>();
        foreach (var id in ids.Distinct())
        {
            if (await GetStudyAsync(id, null, TrialDetail.NoCheckpoints, cancel) is { } view) found.Add(view);
            else missing.Add(id);
        }
        return (StudyComparison.Compare(found), found, missing);
    }

    public async Task<IReadOnlyList<JasperFx.Events.IEvent>?> GetEventsAsync(Guid id, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var events = await StudyDocuments.EventsAsync(session, id, null, cancel);
        return events.Count == 0 ? null : events;
    }

    public async Task<StudySummaryView?> GetSummaryAsync(Guid id, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        return await StudyDocuments.SummaryAsync(session, id, cancel);
    }
}

/// <summary>The read endpoints of <c>/api/studies</c>.</summary>
public static class ReadStudies
{
    public static async Task<IResult> List(LedgerQueries queries, CancellationToken cancel) =>
        TypedResults.Ok(await queries.ListStudiesAsync(cancel));

    public static async Task<IResult> Get(Guid id, HttpRequest request, LedgerQueries queries, CancellationToken cancel)
    {
        long? asOf = null;
        if (request.Query["asOf"].FirstOrDefault() is { } raw)
        {
            if (!long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["asOf"] = [$"asOf must be a non-negative event sequence, got '{raw}'."] });
            asOf = parsed;
        }
        var view = await queries.GetStudyAsync(id, asOf, TrialDetail.AllCheckpoints, cancel);
        return view is null
            ? TypedResults.Problem(asOf is null ? $"No study {id}." : $"Study {id} did not exist at sequence {asOf}.", statusCode: 404)
            : TypedResults.Ok(view);
    }

    public static async Task<IResult> Events(Guid id, LedgerQueries queries, CancellationToken cancel)
    {
        var events = await queries.GetEventsAsync(id, cancel);
        return events is null
            ? TypedResults.Problem($"No study {id}.", statusCode: 404)
            : TypedResults.Ok(events.Select(e => new
            {
                sequence = e.Sequence, stream = e.StreamId, version = e.Version, type = e.EventType.Name,
                timestamp = e.Timestamp, user = e.UserName, data = e.Data,
            }));
    }

    /// <summary>Every fit ever made, oldest first, each with its whole evidence (reassembled where it is by reference).</summary>
    public static async Task<IResult> Fits(Guid id, LedgerQueries queries, CancellationToken cancel)
    {
        var events = await queries.GetEventsAsync(id, cancel);
        if (events is null) return TypedResults.Problem($"No study {id}.", statusCode: 404);
        StudyLawsView? laws = null;
        var fits = new List<object>();
        foreach (var e in events.Where(e => e.Data is LawFitted))
        {
            laws = StudyProjection.ApplyLaws(laws, id, e.Data, e.Sequence);
            var recorded = (LawFitted)e.Data;
            fits.Add(new { sequence = e.Sequence, fit = laws.LatestFits.First(f => f.FitId == recorded.FitId) });
        }
        return TypedResults.Ok(fits);
    }

    public static async Task<IResult> CoordinateChecks(Guid id, LedgerQueries queries, CancellationToken cancel) =>
        await queries.GetSummaryAsync(id, cancel) is { } summary
            ? TypedResults.Ok(summary.CoordinateChecks)
            : TypedResults.Problem($"No study {id}.", statusCode: 404);
}

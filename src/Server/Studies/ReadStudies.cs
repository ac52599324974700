using Marten;
using Microsoft.AspNetCore.Mvc;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

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
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["asOf"] = [$"asOf must be a non-negative event sequence, got '{raw}'."] });
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
        await queries.GetCoordinateChecksAsync(id, cancel) is { } checks
            ? TypedResults.Ok(checks)
            : TypedResults.Problem($"No study {id}.", statusCode: 404);
}

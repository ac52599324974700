using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Trials;

namespace ScalingLedger.Server.Studies;

public static class StudyEndpoints
{
    public static IEndpointRouteBuilder MapStudyEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/studies").WithTags("Studies");
        api.MapPost("/", DefineStudy).WithSummary("Define a study: plan its grid and queue its trials.");
        api.MapGet("/", ListStudies).WithSummary("Every study with its status and trial counts.");
        api.MapGet("/{id:guid}", GetStudy).WithSummary("A study's current state, or its state at a global event sequence (?asOf=).");
        api.MapGet("/{id:guid}/events", GetEvents).WithSummary("Every event of the study in sequence order.");
        api.MapGet("/{id:guid}/fits", GetFits).WithSummary("Every fit ever made for the study, oldest first, with its evidence.");
        api.MapPost("/{id:guid}/cancel", CancelStudy).WithSummary("Cancel a running study.");
        return app;
    }

    public static async Task<IResult> DefineStudy(HttpRequest request, StudyLedger ledger, TrialDispatcher dispatcher, CancellationToken cancel)
    {
        StudySpec? spec;
        try
        {
            spec = await request.ReadFromJsonAsync<StudySpec>(cancel);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) ? "" : ex.Path.TrimStart('$', '.');
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { [field] = [$"The body is not a valid study spec: {ex.Message}"] },
                title: "The study spec could not be read.");
        }
        catch (InvalidOperationException ex) when (!request.HasJsonContentType())
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Send the study spec as application/json.");
        }

        var errors = SpecValidation.Validate(spec);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors, title: $"The study spec has {errors.Count} invalid field(s).");

        var user = request.Headers["X-Ledger-User"].FirstOrDefault() ?? spec!.Owner!;
        var defined = await ledger.DefineAsync(spec!, user, cancel);
        await dispatcher.DispatchAsync(defined.StudyId, defined.Spec, defined.Trials, cancel);
        return TypedResults.Created($"/api/studies/{defined.StudyId}", new { id = defined.StudyId, trials = defined.Trials.Count });
    }

    public static async Task<Ok<IReadOnlyList<StudySummary>>> ListStudies(LedgerQueries queries, CancellationToken cancel) =>
        TypedResults.Ok(await queries.ListStudiesAsync(cancel));

    public static async Task<IResult> GetStudy(Guid id, [FromQuery] long? asOf, LedgerQueries queries, CancellationToken cancel)
    {
        if (asOf is < 0) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["asOf"] = ["asOf must be a non-negative event sequence."] });
        var view = await queries.GetStudyAsync(id, asOf, cancel);
        return view is null
            ? TypedResults.Problem(asOf is null ? $"No study {id}." : $"Study {id} did not exist at sequence {asOf}.", statusCode: 404)
            : TypedResults.Ok(view);
    }

    public static async Task<IResult> GetEvents(Guid id, LedgerQueries queries, CancellationToken cancel)
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

    public static async Task<IResult> GetFits(Guid id, LedgerQueries queries, CancellationToken cancel)
    {
        var events = await queries.GetEventsAsync(id, cancel);
        return events is null
            ? TypedResults.Problem($"No study {id}.", statusCode: 404)
            : TypedResults.Ok(events.Where(e => e.Data is LawFitted).Select(e => new { sequence = e.Sequence, fit = (LawFitted)e.Data }));
    }

    public static async Task<IResult> CancelStudy(Guid id, HttpRequest request, StudyLedger ledger, TrialDispatcher dispatcher,
        LedgerQueries queries, CancellationToken cancel)
    {
        var user = request.Headers["X-Ledger-User"].FirstOrDefault() ?? "anonymous";
        if (await ledger.CancelAsync(id, user, request.Query["reason"].FirstOrDefault(), cancel) is null)
            return TypedResults.Problem($"No study {id}.", statusCode: 404);
        await dispatcher.StopAsync(id, cancel);
        var view = await queries.GetStudyAsync(id, cancel: cancel);
        return TypedResults.Accepted($"/api/studies/{id}", new { id, status = view?.Status });
    }
}

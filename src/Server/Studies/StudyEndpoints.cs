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
        api.MapPost("/import", ImportStudy)
            .WithSummary("Make a study of runs trained elsewhere from a CSV (header naming width, params, tokens, learningRate, seed, loss).");
        api.MapGet("/", ListStudies).WithSummary("Every study with its status and trial counts.");
        api.MapGet("/{id:guid}", GetStudy).WithSummary("A study's current state, or its state at a global event sequence (?asOf=).");
        api.MapGet("/{id:guid}/events", GetEvents).WithSummary("Every event of the study in sequence order.");
        api.MapGet("/{id:guid}/fits", GetFits).WithSummary("Every fit ever made for the study, oldest first, with its evidence.");
        api.MapPost("/{id:guid}/cancel", CancelStudy).WithSummary("Cancel a running study.");
        api.MapPost("/{id:guid}/coordinate-checks", RequestCoordinateCheck)
            .WithSummary("Queue a coordinate check of the study's model (mean |activation| per layer over the first steps, per width).");
        api.MapGet("/{id:guid}/coordinate-checks", GetCoordinateChecks).WithSummary("The study's recorded coordinate checks.");
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

    public const int MaxImportBytes = 20 * 1024 * 1024;

    public static async Task<IResult> ImportStudy(HttpRequest request, [FromQuery] string? name, [FromQuery] string? owner,
        StudyLedger ledger, CancellationToken cancel)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(name)) errors["name"] = ["Name the imported study: ?name=..."];
        else if (name.Length > 200) errors["name"] = ["The name must be at most 200 characters."];
        if (request.ContentLength is > MaxImportBytes) errors["csv"] = [$"The CSV must be at most {MaxImportBytes / 1024 / 1024} MiB."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The import cannot be read.");

        using var reader = new StreamReader(request.Body);
        var buffer = new char[MaxImportBytes + 1];
        var length = await reader.ReadBlockAsync(buffer, cancel);
        if (length > MaxImportBytes)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["csv"] = [$"The CSV must be at most {MaxImportBytes / 1024 / 1024} MiB."] });
        var parsed = Domain.Imports.RunCsv.Parse(new string(buffer, 0, length));
        if (parsed.Errors.Count > 0)
            return TypedResults.ValidationProblem(parsed.Errors, title: $"The CSV has {parsed.Errors.Count} problem(s); nothing was imported.");

        var user = request.Headers["X-Ledger-User"].FirstOrDefault() ?? owner ?? "anonymous";
        var imported = await ledger.ImportAsync(name!.Trim(), owner?.Trim() is { Length: > 0 } o ? o : user, parsed.Rows, parsed.Columns, user, cancel);
        return TypedResults.Created($"/api/studies/{imported.StudyId}",
            new { id = imported.StudyId, runs = imported.Runs.Count, columns = parsed.Columns, ignoredColumns = parsed.IgnoredColumns });
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

    /// <summary>Optional settings of a coordinate check; defaults come from the study's spec.</summary>
    public sealed record CoordinateCheckRequest(IReadOnlyList<int>? Widths, double? LearningRate, int? Steps, int? BatchSize);

    public static async Task<IResult> RequestCoordinateCheck(Guid id, CoordinateCheckRequest? request, LedgerQueries queries,
        TrialDispatcher dispatcher, CancellationToken cancel)
    {
        var study = await queries.GetStudyAsync(id, cancel: cancel);
        if (study?.Spec?.Model is not { } model) return TypedResults.Problem($"No study {id}.", statusCode: 404);
        var widths = request?.Widths ?? model.Widths!;
        var errors = new Dictionary<string, string[]>();
        if (widths.Count == 0 || widths.Any(w => w < 1 || w > SpecValidation.MaxWidth))
            errors["widths"] = [$"Widths must be between 1 and {SpecValidation.MaxWidth}."];
        if (request?.LearningRate is { } lr && !(lr > 0 && lr <= 100)) errors["learningRate"] = ["The learning rate must be positive, at most 100."];
        if (request?.Steps is { } steps && (steps < 1 || steps > 1000)) errors["steps"] = ["steps must be between 1 and 1000."];
        if (request?.BatchSize is { } batch && (batch < 1 || batch > 60_000)) errors["batchSize"] = ["batchSize must be between 1 and 60,000."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var check = new RunCoordinateCheck(id, Guid.CreateVersion7(), study.Spec.Dataset!, model.HiddenLayers, widths.Distinct().Order().ToList(),
            model.Parameterization ?? "standard", model.BaseWidth, request?.LearningRate ?? study.Spec.Optimizer!.LearningRates!.Max(),
            study.Spec.Seeds![0], request?.Steps ?? 10, request?.BatchSize ?? study.Spec.BatchSize);
        await dispatcher.CheckCoordinatesAsync(check, cancel);
        return TypedResults.Accepted($"/api/studies/{id}/coordinate-checks", new { checkId = check.CheckId, check.Widths, check.LearningRate, check.Steps });
    }

    public static async Task<IResult> GetCoordinateChecks(Guid id, LedgerQueries queries, CancellationToken cancel)
    {
        var study = await queries.GetStudyAsync(id, cancel: cancel);
        return study is null ? TypedResults.Problem($"No study {id}.", statusCode: 404) : TypedResults.Ok(study.CoordinateChecks);
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

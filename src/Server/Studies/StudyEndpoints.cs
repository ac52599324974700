using Microsoft.OpenApi;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Studies;

/// <summary>The <c>/api/studies</c> routes; each capability's handler lives in its own file of this folder.</summary>
public static class StudyEndpoints
{
    private const string Json = "application/json";

    public static IEndpointRouteBuilder MapStudyEndpoints(this IEndpointRouteBuilder app)
    {
        // Reading is for every signed-in user; every write for researchers and admins; managing a study for its owner and the
        // users it lets manage it (with a writing role) and admins (checked by each handler against the study).
        var api = app.MapGroup("/api/studies").WithTags("Studies").RequireAuthorization(LedgerPolicies.Read).WithLedgerProblems();
        api.MapPost("/", DefineStudy.Handle).RequireAuthorization(LedgerPolicies.Write).Accepting(Json).WithBody(typeof(Contracts.StudySpec), Json)
            .WithName("defineStudy").Produces<DefineStudy.DefinedAnswer>(StatusCodes.Status201Created).WithBadRequest()
            .WithSummary("Define a study: plan its grid and queue its trials.");
        api.MapPost("/import", ImportStudy.Handle).RequireAuthorization(LedgerPolicies.Write).Accepting("text/csv").WithBody(typeof(string), "text/csv")
            .WithName("importStudy").Produces<ImportStudy.ImportedAnswer>(StatusCodes.Status201Created)
            .WithBadRequest()
            .WithSummary("Make a study of runs trained elsewhere from a CSV (header naming width, params, tokens, learningRate, seed, loss).");
        // A study of thousands of trials exports tens of MiB: more than the server's default body limit (30 MB) allows.
        api.MapPost("/import-events", StudyTransfer.Import).RequireAuthorization(LedgerPolicies.Admin).Accepting(Json)
            .WithBody(typeof(Contracts.StudyExport), Json)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(StudyTransfer.MaxImportBytes))
            .WithName("importStudyEvents")
            .Produces<StudyTransfer.ImportedEventsAnswer>(StatusCodes.Status201Created).WithBadRequest().ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Bring in a study exported from another ledger (admins): its events as they were, checked whole before anything is stored.");
        api.MapGet("/", ReadStudies.List)
            .WithName("listStudies").Produces<IReadOnlyList<StudySummary>>(StatusCodes.Status200OK).WithBadRequest()
            .WithQuery("offset", JsonSchemaType.Integer, "How many studies to pass over, 0 or more (0 by default).")
            .WithQuery("limit", JsonSchemaType.Integer, "How many studies a page holds, 1 to 1,000 (500 by default).")
            .WithSummary("The studies, newest first, with their status and trial counts: a page of ?limit= (500, at most 1,000) after " +
                         "?offset=; the next page in the Link header.");
        api.MapGet("/{id:guid}", ReadStudies.Get).WithName("getStudy").Produces<StudyView>(StatusCodes.Status200OK).WithBadRequest().WithNotFound().WithBusy()
            .WithQuery("asOf", JsonSchemaType.Integer, "The study as it was at this sequence of its history (its recordedSequence).")
            .WithQuery("checkpoints", JsonSchemaType.String, "Which loss checkpoints each trial carries (all by default).", false, "all", "last", "none")
            .WithSummary("A study's current state, or its state at a global event sequence (?asOf=); ?checkpoints=last|none leaves curves out.");
        api.MapGet("/{id:guid}/events", ReadStudies.Events).WithName("listStudyEvents")
            .WithQuery("after", JsonSchemaType.Integer, "The events after this sequence of this ledger (its position), 0 or more (0 by default).")
            .WithQuery("limit", JsonSchemaType.Integer, "How many events a page holds, 1 to 10,000 (10,000 by default).")
            .Produces<IReadOnlyList<ReadStudies.StoredEvent>>(StatusCodes.Status200OK).WithBadRequest().WithNotFound()
            .WithSummary("The study's events in sequence order, 10,000 at most per answer (?after=SEQUENCE&limit=N; the next page in the Link header).");
        api.MapGet("/{id:guid}/verify", ReadStudies.Verify).WithName("verifyStudy")
            .Produces<ReadStudies.VerifyAnswer>(StatusCodes.Status200OK).WithBadRequest().WithNotFound()
            .WithSummary("Whether the study's hash-chained events are intact, the first broken one, and the head to keep elsewhere (?expect=VERSION:HASH).");
        api.MapGet("/{id:guid}/export", StudyTransfer.Export).WithName("exportStudy")
            .Produces<Contracts.StudyExport>(StatusCodes.Status200OK).WithNotFound().WithBusy()
            .WithSummary("The study's every event as stored, with its hash and the chain's head, to import into another ledger (its managers).");
        api.MapGet("/{id:guid}/fits", ReadStudies.Fits).WithName("listStudyFits")
            .Produces<IReadOnlyList<ReadStudies.FitAt>>(StatusCodes.Status200OK).WithNotFound().WithBusy()
            .WithSummary("Every fit ever made for the study, oldest first, with its evidence.");
        api.MapPost("/{id:guid}/cancel", CancelStudy.Handle).RequireAuthorization(LedgerPolicies.Write).Accepting(Json)
            .WithBody(typeof(CancelStudy.CancelRequest), Json, required: false)
            .WithQuery("reason", JsonSchemaType.String, "Why the study is cancelled (or the body's reason).")
            .WithName("cancelStudy").Produces<CancelStudy.CancelAnswer>(StatusCodes.Status202Accepted).WithBadRequest().WithNotFound()
            .WithSummary("Cancel a running study (its owner, managers and admins): optional body {\"reason\": \"...\"}.");
        api.MapPost("/{id:guid}/extend", ExtendStudy.Handle).RequireAuthorization(LedgerPolicies.Write).Accepting(Json)
            .WithName("extendStudy").Produces<ExtendStudy.ExtensionAnswer>(StatusCodes.Status202Accepted).WithBadRequest().WithNotFound()
            .ProducesProblem(StatusCodes.Status409Conflict).WithBusy()
            .WithSummary("Add widths to a running or completed study (its owner, managers and admins), each at rates around the optimal-LR " +
                         "law's predicted best with its interval, plus the naive fixed rate: {\"widths\": [4096], \"seeds\": [...], " +
                         "\"fixedRates\": [...], \"reason\": \"...\"}.");
        api.MapPost("/{id:guid}/grants", StudyGrants.Handle).RequireAuthorization(LedgerPolicies.Write).Accepting(Json)
            .WithName("grantStudyAccess").Produces<StudyGrants.ManagersAnswer>(StatusCodes.Status200OK).WithBadRequest().WithNotFound()
            .WithSummary("Let a user manage the study, or take it back: {\"user\": \"...\", \"permission\": \"manage\" | \"none\"}.");
        api.MapPost("/{id:guid}/coordinate-checks", CoordinateChecks.Request).RequireAuthorization(LedgerPolicies.Write).Accepting(Json)
            .WithName("requestCoordinateCheck").Produces<CoordinateChecks.CheckQueuedAnswer>(StatusCodes.Status202Accepted).WithBadRequest()
            .WithNotFound().ProducesProblem(StatusCodes.Status409Conflict).WithOptionalBody()
            .WithSummary("Queue a coordinate check of the study's model (mean |activation| per layer over the first steps, per width).");
        api.MapGet("/{id:guid}/coordinate-checks", ReadStudies.CoordinateChecks)
            .WithName("listCoordinateChecks").Produces<IReadOnlyList<Contracts.CoordinateCheckRecorded>>(StatusCodes.Status200OK).WithNotFound()
            .WithSummary("The study's recorded coordinate checks.");
        app.MapGet("/api/compare", CompareStudies.Handle).WithTags("Studies").RequireAuthorization(LedgerPolicies.Read).WithLedgerProblems()
            .WithName("compareStudies").Produces<ComparisonView>(StatusCodes.Status200OK).WithBadRequest().WithNotFound()
            .WithQuery("ids", JsonSchemaType.String, "The studies to compare, two to eight ids separated by commas.", required: true)
            .WithSummary("Two or more studies side by side (?ids=id1,id2): law parameters with intervals and whether they agree, " +
                "grid cells, spec differences.");
        return app;
    }

    /// <summary>A read of a whole study: 503 with Retry-After while too many run (<see cref="HeavyReads"/>).</summary>
    private static RouteHandlerBuilder WithBusy(this RouteHandlerBuilder builder) => builder.ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}

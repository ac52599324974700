namespace ScalingLedger.Server.Studies;

/// <summary>The <c>/api/studies</c> routes; each capability's handler lives in its own file of this folder.</summary>
public static class StudyEndpoints
{
    public static IEndpointRouteBuilder MapStudyEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/studies").WithTags("Studies");
        api.MapPost("/", DefineStudy.Handle).WithSummary("Define a study: plan its grid and queue its trials.");
        api.MapPost("/import", ImportStudy.Handle)
            .WithSummary("Make a study of runs trained elsewhere from a CSV (header naming width, params, tokens, learningRate, seed, loss).");
        api.MapGet("/", ReadStudies.List).WithSummary("Every study with its status and trial counts.");
        api.MapGet("/{id:guid}", ReadStudies.Get).WithSummary("A study's current state, or its state at a global event sequence (?asOf=).");
        api.MapGet("/{id:guid}/events", ReadStudies.Events).WithSummary("Every event of the study in sequence order.");
        api.MapGet("/{id:guid}/fits", ReadStudies.Fits).WithSummary("Every fit ever made for the study, oldest first, with its evidence.");
        api.MapPost("/{id:guid}/cancel", CancelStudy.Handle).WithSummary("Cancel a running study.");
        api.MapPost("/{id:guid}/coordinate-checks", CoordinateChecks.Request)
            .WithSummary("Queue a coordinate check of the study's model (mean |activation| per layer over the first steps, per width).");
        api.MapGet("/{id:guid}/coordinate-checks", ReadStudies.CoordinateChecks).WithSummary("The study's recorded coordinate checks.");
        app.MapGet("/api/compare", CompareStudies.Handle).WithTags("Studies")
            .WithSummary("Two or more studies side by side (?ids=id1,id2): law parameters with intervals and whether they agree, " +
                "grid cells, spec differences.");
        return app;
    }
}

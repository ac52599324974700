using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Trials;

namespace ScalingLedger.Server.Studies;

/// <summary><c>POST /api/studies/{id}/coordinate-checks</c>: queue a coordinate check of the study's model.</summary>
public static class CoordinateChecks
{
    /// <summary>Optional settings of a coordinate check; defaults come from the study's spec.</summary>
    public sealed record CoordinateCheckRequest(IReadOnlyList<int>? Widths, double? LearningRate, int? Steps, int? BatchSize);

    public static async Task<IResult> Request(Guid id, CoordinateCheckRequest? request, LedgerQueries queries, TrialDispatcher dispatcher,
        CancellationToken cancel)
    {
        var study = await queries.GetSummaryAsync(id, cancel);
        if (study is null) return TypedResults.Problem($"No study {id}.", statusCode: StatusCodes.Status404NotFound);
        if (study.Spec?.Model is not { } model)
            return TypedResults.Problem($"Study {id} ({study.Source}) has no model spec to check: coordinate checks are for studies this ledger trains.",
                statusCode: StatusCodes.Status409Conflict);
        var widths = request?.Widths ?? model.Widths!;
        var errors = new Dictionary<string, string[]>();
        if (widths.Count == 0 || widths.Count > 64 || widths.Any(w => w < 1 || w > SpecValidation.MaxWidth))
            errors["widths"] = [$"Give 1 to 64 widths, each between 1 and {SpecValidation.MaxWidth}."];
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
}

using System.Security.Claims;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// <c>POST /api/studies/{id}/coordinate-checks</c>: record the request of a coordinate check of the study's model; the
/// reconciler sends it to the trainers (the ledger is the outbox). Bounded: at most
/// <see cref="CoordinateCheckLimits.MaxPerStudy"/> per study, widths and steps capped, and no model larger than a trial may be.
/// </summary>
public static class CoordinateChecks
{
    /// <summary>A queued coordinate check: its id and what it will measure.</summary>
    public sealed record CheckQueuedAnswer(Guid CheckId, IReadOnlyList<int> Widths, double LearningRate, int Steps);

    /// <summary>Optional settings of a coordinate check; defaults come from the study's spec.</summary>
    public sealed record CoordinateCheckRequest(
        IReadOnlyList<int>? Widths = null, double? LearningRate = null, int? Steps = null, int? BatchSize = null);

    /// <summary>The trainers' command of a requested check (the reconciler sends it: <see cref="TrialReconciler"/>).</summary>
    public static RunCoordinateCheck CommandFor(StudySummaryView study, CoordinateCheckRequested request)
    {
        var model = study.Spec!.Model!;
        return new RunCoordinateCheck(study.Id, request.CheckId, study.Spec.Dataset!, model.HiddenLayers, request.Widths,
            model.Parameterization ?? "standard", model.BaseWidth, request.LearningRate, study.Spec.Seeds![0], request.Steps, request.BatchSize);
    }

    public static async Task<IResult> Request(Guid id, CoordinateCheckRequest? request, ClaimsPrincipal user, LedgerQueries queries,
        StudyWriter writer, TrialReconciler reconciler, TimeProvider clock, CancellationToken cancel)
    {
        var study = await queries.GetSummaryAsync(id, cancel);
        if (study is null) return TypedResults.Problem($"No study {id}.", statusCode: StatusCodes.Status404NotFound);
        if (study.Spec?.Model is not { } model)
            return TypedResults.Problem($"Study {id} ({study.Source}) has no model spec to check: coordinate checks are for studies this ledger trains.",
                statusCode: StatusCodes.Status409Conflict);
        if (!StudyAccess.CanManage(user, study)) return StudyAccess.Refused(study, "ask for its coordinate checks");
        var widths = (request?.Widths ?? model.Widths!).Distinct().Order().ToList();
        var errors = new Dictionary<string, string[]>();
        if (widths.Count == 0 || widths.Count > CoordinateCheckLimits.MaxWidths || widths.Any(w => w < 1 || w > SpecValidation.MaxWidth))
            errors["widths"] = [$"Give 1 to {CoordinateCheckLimits.MaxWidths} widths, each between 1 and {SpecValidation.MaxWidth}."];
        else if (SpecValidation.Weights(widths[^1], model.HiddenLayers) > CoordinateCheckLimits.MaxWeights)
            errors["widths"] = [$"Width {widths[^1]} makes a model of {SpecValidation.Weights(widths[^1], model.HiddenLayers):N0} weights; " +
                $"at most {CoordinateCheckLimits.MaxWeights:N0}."];
        if (request?.LearningRate is { } lr && !(lr > 0 && lr <= 100)) errors["learningRate"] = ["The learning rate must be positive, at most 100."];
        if (request?.Steps is { } steps && (steps < 1 || steps > CoordinateCheckLimits.MaxSteps))
            errors["steps"] = [$"steps must be between 1 and {CoordinateCheckLimits.MaxSteps}."];
        if (request?.BatchSize is { } batch && (batch < 1 || batch > 60_000)) errors["batchSize"] = ["batchSize must be between 1 and 60,000."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var by = LedgerUser.NameOf(user);
        var check = new CoordinateCheckRequested(id, Guid.CreateVersion7(), widths, request?.LearningRate ?? study.Spec.Optimizer!.LearningRates!.Max(),
            request?.Steps ?? 10, request?.BatchSize ?? study.Spec.BatchSize, by, clock.GetUtcNow());
        // The ledger is the outbox: the request is committed, and the reconciler sends the trainers its command.
        var recorded = await writer.DecideAsync(id, by, null, async session =>
            StudyDecisions.DecideCoordinateCheckRequest(await StudyDocuments.SummaryAsync(session, id, cancel), check), CancellationToken.None);
        if (recorded.Count == 0)
            return TypedResults.Problem($"Study {id} has run its {CoordinateCheckLimits.MaxPerStudy} coordinate checks: no more can be asked for.",
                statusCode: StatusCodes.Status409Conflict);
        reconciler.Poke();
        return TypedResults.Accepted($"/api/studies/{id}/coordinate-checks",
            new CheckQueuedAnswer(check.CheckId, check.Widths, check.LearningRate, check.Steps));
    }
}

using System.Security.Claims;
using System.Text.Json;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Outbox;

namespace ScalingLedger.Server.Studies;

/// <summary><c>POST /api/studies</c>: validate a spec, plan its grid, record StudyDefined; the reconciler sends the trials.</summary>
public static class DefineStudy
{
    /// <summary>A defined study: its id and how many trials were planned.</summary>
    public sealed record DefinedAnswer(Guid Id, int Trials);

    public static async Task<IResult> Handle(HttpRequest request, ClaimsPrincipal principal, StudyWriter writer, TrialReconciler reconciler,
        TimeProvider clock, CancellationToken cancel)
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

        // With access control on, the study is the signed-in user's, whatever the spec names.
        if (spec is not null) spec = spec with { Owner = StudyAccess.OwnerFor(principal, spec.Owner) };
        var errors = SpecValidation.Validate(spec);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors, title: $"The study spec has {errors.Count} invalid field(s).");

        var user = LedgerUser.NameOf(principal);
        var normalized = GridPlanner.Normalize(spec!);
        var studyId = Guid.CreateVersion7();
        var defined = new StudyDefined(studyId, normalized, GridPlanner.Plan(normalized, Guid.CreateVersion7), user, clock.GetUtcNow());
        // Committed whatever becomes of the request; the trials are sent by the reconciler from what was committed (the ledger is the outbox).
        await writer.StartAsync(studyId, defined, user, CancellationToken.None);
        reconciler.Poke();
        return TypedResults.Created($"/api/studies/{defined.StudyId}", new DefinedAnswer(defined.StudyId, defined.Trials.Count));
    }
}

using Marten;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Predictions;

public static class PredictionEndpoints
{
    public static IEndpointRouteBuilder MapPredictionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/predictions/{id:guid}", GetAudit).WithTags("Predictions")
            .WithSummary("A prediction, its fit, the evidence trials and whether re-deriving the fit from that evidence reproduces it.");
        return app;
    }

    public static async Task<IResult> GetAudit(Guid id, PredictionAuditor auditor, CancellationToken cancel) =>
        await auditor.AuditAsync(id, cancel) is { } audit
            ? TypedResults.Ok(audit)
            : TypedResults.Problem($"No prediction {id}.", statusCode: StatusCodes.Status404NotFound);
}

/// <summary>The audit of one prediction: why it was made, from what, and whether refitting that evidence gives the same fit.</summary>
public sealed class PredictionAuditor(IDocumentStore store) : IPredictionAudits
{
    public async Task<PredictionAuditView?> AuditAsync(Guid predictionId, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var issued = (await session.Events.QueryRawEventDataOnly<PredictionIssued>()
            .Where(p => p.PredictionId == predictionId).ToListAsync(cancel)).FirstOrDefault();
        if (issued is null) return null;

        var events = await session.Events.FetchStreamAsync(issued.StudyId, token: cancel);
        var fitEvent = events.First(e => e.Data is LawFitted f && f.FitId == issued.FitId);
        var fit = (LawFitted)fitEvent.Data;
        var atEvidence = StudyProjection.Fold(events.Where(e => e.Sequence <= fit.EvidenceSequence).Select(e => (e.Data, e.Sequence)));
        var verification = FitAudit.Verify(atEvidence, fit);
        var resolution = events.Select(e => e.Data).OfType<PredictionResolved>().FirstOrDefault(r => r.PredictionId == predictionId);
        var evidence = fit.EvidenceTrialIds.Select(atEvidence.Trial).OfType<TrialView>()
            .Select(t => new EvidenceTrialView(t.TrialId, t.Width, t.LearningRate, t.Seed, t.Status, t.FinalEvalLoss, t.Params, t.Tokens))
            .OrderBy(t => t.Width).ThenBy(t => t.LearningRate).ThenBy(t => t.Seed).ToList();
        return new PredictionAuditView(issued, resolution, fit, fitEvent.Sequence, evidence, verification.Verified, verification.Differences, atEvidence.Name,
            verification.Note);
    }
}

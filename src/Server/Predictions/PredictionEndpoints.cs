using Marten;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Store;
using ScalingLedger.Server.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Predictions;

public static class PredictionEndpoints
{
    public static IEndpointRouteBuilder MapPredictionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/predictions/{id:guid}", GetAudit).WithTags("Predictions").WithLedgerProblems()
            .WithName("getPredictionAudit").Produces<PredictionAuditView>(StatusCodes.Status200OK)
            .WithBadRequest().WithNotFound().ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("A prediction, its fit, the evidence trials and whether re-deriving the fit from that evidence reproduces it.");
        return app;
    }

    public static async Task<IResult> GetAudit(Guid id, HttpContext context, PredictionAuditor auditor, HeavyReads heavy, CancellationToken cancel)
    {
        // An audit refolds its study up to the fit's evidence: it takes turns with the other reads of whole studies.
        using var turn = await heavy.EnterAsync(cancel);
        if (turn is null) return HeavyReads.Busy(context);
        return await auditor.AuditAsync(id, cancel) is { } audit
            ? TypedResults.Ok(audit)
            : TypedResults.Problem($"No prediction {id}.", statusCode: StatusCodes.Status404NotFound);
    }
}

/// <summary>
/// The audit of one prediction: why it was made, from what, and whether refitting that evidence gives the same fit. Only
/// the audited law is refitted, from the study folded up to the fit's evidence sequence.
/// </summary>
public sealed class PredictionAuditor(IDocumentStore store) : IPredictionAudits
{
    public async Task<PredictionAuditView?> AuditAsync(Guid predictionId, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        if (await session.LoadAsync<PredictionView>(predictionId, cancel) is not { } prediction) return null;
        var issued = prediction.Issued;
        // The laws fit trials' ends, never their curves: the study's checkpoints (most of its events) stay in the database.
        var events = await StudyDocuments.EventsAsync(session, issued.StudyId, null, cancel, checkpoints: false);
        var fitEvent = events.FirstOrDefault(e => e.Data is LawFitted f && f.FitId == issued.FitId);
        if (fitEvent is null) return null;
        // The fit with its whole evidence (reassembled where it names it by reference), as the laws view keeps it.
        StudyLawsView? laws = null;
        foreach (var e in events.Where(e => e.Data is LawFitted && e.Sequence <= fitEvent.Sequence))
            laws = StudyProjection.ApplyLaws(laws, issued.StudyId, e.Data, LedgerSequence.Of(e));
        var fit = laws!.LatestFits.First(f => f.FitId == issued.FitId);
        // In the sequences the fit's own data speaks (those of the ledger it was recorded in, for a study brought here).
        var evidenceAt = new Domain.Ledger.RecordedSequence(fit.EvidenceSequence);
        var atEvidence = StudyProjection.Fold(events.Select(e => (e.Data, Sequence: LedgerSequence.Of(e))).Where(e => e.Sequence <= evidenceAt));
        // The evidence ends where the study's last event before it does, a checkpoint as often as not.
        atEvidence = atEvidence with
        {
            LastSequence = Math.Max(atEvidence.LastSequence,
                (await StudyDocuments.LastRecordedSequenceAsync(session, issued.StudyId, evidenceAt, cancel)).Value),
        };
        var verification = FitAudit.Verify(atEvidence, fit);
        // The verdict stored when the fit was recorded (never judged again here).
        var judged = await session.LoadAsync<FitCredibilityView>(fit.FitId, cancel);
        var credibility = judged is null
            ? new FitCredibility(false, ["its credibility was never recorded (the ledger's documents are incomplete)"])
            : new FitCredibility(judged.Credible, judged.Reasons);
        var evidence = fit.EvidenceTrialIds.Select(atEvidence.Trial).OfType<TrialView>()
            .Select(t => new EvidenceTrialView(t.TrialId, t.Width, t.LearningRate, t.Seed, t.Status, t.FinalEvalLoss, t.Params, t.Tokens))
            .OrderBy(t => t.Width).ThenBy(t => t.LearningRate).ThenBy(t => t.Seed).ToList();
        // Where the study's history places the fit (its ?asOf=), as the fit's evidence sequence is.
        return new PredictionAuditView(issued, prediction.Resolution, fit, LedgerSequence.Of(fitEvent).Value, evidence, verification.Verified,
            verification.Differences, atEvidence.Name, credibility, verification.Note);
    }
}

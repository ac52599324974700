using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Web;

/// <summary>The audit of one prediction, as the page shows it.</summary>
public sealed record PredictionAuditView(
    ScalingLedger.Contracts.PredictionIssued Prediction,
    ScalingLedger.Contracts.PredictionResolved? Resolution,
    ScalingLedger.Contracts.LawFitted Fit,
    long FitSequence,
    IReadOnlyList<EvidenceTrialView> EvidenceTrials,
    bool Verified,
    IReadOnlyList<string> Differences,
    string StudyName,
    ScalingLedger.Domain.Claims.FitCredibility Credibility,
    string? VerificationNote = null);

public sealed record EvidenceTrialView(Guid TrialId, int Width, double LearningRate, int Seed, TrialStatus Status, double? FinalEvalLoss, double? Params,
    double? Tokens);

/// <summary>Re-derives a prediction's fit from its evidence (implemented by the Server).</summary>
public interface IPredictionAudits
{
    Task<PredictionAuditView?> AuditAsync(Guid predictionId, CancellationToken cancel = default);
}

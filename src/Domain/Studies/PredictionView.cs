using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>One prediction: the claim and, once observed, its resolution.</summary>
public sealed class PredictionView
{
    public Guid Id { get; set; }
    public Guid StudyId { get; set; }
    public required PredictionIssued Issued { get; set; }
    public PredictionResolved? Resolution { get; set; }
    /// <summary>The global sequence of its PredictionIssued: predictions list in the order they were issued.</summary>
    public long IssuedSequence { get; set; }
    public long LastSequence { get; set; }

    public bool IsDeviation => Resolution is { Inside: false };
}

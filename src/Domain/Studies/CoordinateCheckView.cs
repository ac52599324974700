using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

public enum CoordinateCheckStatus { Requested, Recorded, Failed }

/// <summary>
/// One coordinate check, a document of its own keyed by the check's id (never part of the study's summary, which every start
/// and end rewrites: a check holds up to widths x steps x layers numbers): what was asked, and its result or failure.
/// </summary>
public sealed class CoordinateCheckView
{
    /// <summary>The check's id.</summary>
    public Guid Id { get; set; }
    public Guid StudyId { get; set; }
    /// <summary>The global sequence of the check's last event.</summary>
    public long Sequence { get; set; }
    public CoordinateCheckStatus Status { get; set; }
    /// <summary>What was asked; null for checks recorded before requests were.</summary>
    public CoordinateCheckRequested? Request { get; set; }
    /// <summary>The result, once recorded.</summary>
    public CoordinateCheckRecorded? Check { get; set; }
    /// <summary>Why it could not run, when it failed.</summary>
    public string? Error { get; set; }
}

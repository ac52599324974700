using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// One coordinate check's result, a document of its own keyed by the check's id (never part of the study's summary, which
/// every start and end rewrites: a check holds up to widths x steps x layers numbers).
/// </summary>
public sealed class CoordinateCheckView
{
    /// <summary>The check's <see cref="CoordinateCheckRecorded.CheckId"/>.</summary>
    public Guid Id { get; set; }
    public Guid StudyId { get; set; }
    public long Sequence { get; set; }
    public required CoordinateCheckRecorded Check { get; set; }
}

using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>A study's laws: the newest fit of each (law, key), each with its whole evidence (reassembled from references).</summary>
public sealed class StudyLawsView
{
    public Guid Id { get; set; }
    public List<LawFitted> LatestFits { get; set; } = [];
    public int FitCount { get; set; }
    public long LastSequence { get; set; }
    /// <summary>The laws among the newest fits that bend (see <see cref="Claims.LawBends"/>), judged when a fit is recorded.</summary>
    public List<Claims.LawBend> Bends { get; set; } = [];
}

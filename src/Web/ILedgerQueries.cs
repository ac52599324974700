using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Web;

/// <summary>What pages read. The Server implements it over the ledger; pages never touch the store.</summary>
public interface ILedgerQueries
{
    /// <summary>
    /// A page of the studies, newest first: <paramref name="limit"/> of them (at most <see cref="StudyPages.Max"/>) after the first
    /// <paramref name="offset"/>.
    /// </summary>
    Task<IReadOnlyList<StudySummary>> ListStudiesAsync(int offset = 0, int limit = StudyPages.Default, CancellationToken cancel = default);

    /// <summary>
    /// The study now, or as it was at <paramref name="asOf"/> in its history (the global sequence of the ledger each event was
    /// recorded in: this one's, unless the study was moved here). Now, each trial carries only its newest checkpoint (what the
    /// study page shows); as of an earlier sequence, the whole fold.
    /// </summary>
    Task<StudyView?> GetStudyAsync(Guid id, RecordedSequence? asOf = null, CancellationToken cancel = default);

    /// <summary>One trial with its whole curve, and its study's summary; null when the study has no such trial.</summary>
    Task<(StudySummaryView Study, TrialView Trial)?> GetTrialAsync(Guid studyId, Guid trialId, CancellationToken cancel = default);

    /// <summary>
    /// The study's events after <paramref name="after"/> in this ledger, in order, checkpoints left out: what a replay folds
    /// (<see cref="StudyReplay"/>), each with where it happened in the study's history. Empty when there is no such study or
    /// nothing newer.
    /// </summary>
    Task<IReadOnlyList<ReplayEvent>> GetReplayEventsAsync(Guid id, LedgerPosition after = default, CancellationToken cancel = default);

    /// <summary>The study's laws that could not be refitted and are being tried again (none as a rule).</summary>
    Task<IReadOnlyList<RefitTrouble>> GetRefitTroublesAsync(Guid id, CancellationToken cancel = default);

    /// <summary>Two or more studies side by side, with the studies compared (in the order of the ids); the ids that name no study are returned apart.</summary>
    Task<(ComparisonView Comparison, IReadOnlyList<StudyView> Studies, IReadOnlyList<Guid> Missing)> CompareAsync(IReadOnlyList<Guid> ids,
        CancellationToken cancel = default);
}

/// <summary>Raised after the ledger commits events of a study, whichever Server wrote them, so open pages can refresh.</summary>
public interface ILedgerChanges
{
    /// <summary>The study that changed; <see cref="Guid.Empty"/> when any study may have (the notifications were interrupted).</summary>
    event Action<Guid>? StudyChanged;
}

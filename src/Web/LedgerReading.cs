using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Web;

/// <summary>What pages read. The Server implements it over the ledger; pages never touch the store.</summary>
public interface ILedgerQueries
{
    Task<IReadOnlyList<StudySummary>> ListStudiesAsync(CancellationToken cancel = default);

    /// <summary>The study now, or as it was when the global event sequence was <paramref name="asOf"/>.</summary>
    Task<StudyView?> GetStudyAsync(Guid id, long? asOf = null, CancellationToken cancel = default);
}

/// <summary>Raised after the ledger commits events of a study, so open pages can refresh.</summary>
public interface ILedgerChanges
{
    event Action<Guid>? StudyChanged;
}

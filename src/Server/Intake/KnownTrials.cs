using System.Collections.Concurrent;
using Marten;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Intake;

/// <summary>
/// Which trials the ledger has, so that a report about a trial it does not have (a forged or stale id) is refused before it
/// waits for its turn or joins a group. Trials are never deleted: one known stays known. Bounded: past
/// <see cref="Capacity"/> entries the cache starts again; ids that name no trial are never kept.
/// </summary>
public sealed class KnownTrials(IDocumentStore store)
{
    public const int Capacity = 200_000;

    private readonly ConcurrentDictionary<Guid, Guid> studyOf = new();

    /// <summary>Trials remembered now (never one that does not exist).</summary>
    public int Count => studyOf.Count;

    /// <summary>Trials the ledger has recorded (called as their commands are sent).</summary>
    public void Remember(Guid studyId, IEnumerable<Guid> trialIds)
    {
        foreach (var trialId in trialIds)
        {
            if (studyOf.Count >= Capacity) studyOf.Clear();
            studyOf[trialId] = studyId;
        }
    }

    public async Task<bool> ExistsAsync(Guid studyId, Guid trialId, CancellationToken cancel)
    {
        if (studyOf.TryGetValue(trialId, out var known)) return known == studyId;
        await using var session = store.QuerySession();
        var owners = await session.Query<TrialView>().Where(t => t.TrialId == trialId).Select(t => t.StudyId).ToListAsync(cancel);
        if (owners.Count == 0) return false;
        if (studyOf.Count >= Capacity) studyOf.Clear();
        studyOf[trialId] = owners[0];
        return owners[0] == studyId;
    }
}

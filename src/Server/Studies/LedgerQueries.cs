using JasperFx.Events;
using Marten;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>Reads of the ledger for the API and the pages.</summary>
public sealed class LedgerQueries(IDocumentStore store) : ILedgerQueries
{
    public async Task<IReadOnlyList<StudySummary>> ListStudiesAsync(CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var views = await session.Query<StudyView>().OrderByDescending(v => v.DefinedAt).ToListAsync(cancel);
        return views.Select(StudySummary.Of).ToList();
    }

    public async Task<StudyView?> GetStudyAsync(Guid id, long? asOf = null, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        if (asOf is null) return await session.LoadAsync<StudyView>(id, cancel);
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId == id && e.Sequence <= asOf.Value)
            .OrderBy(e => e.Sequence)
            .ToListAsync(cancel);
        return events.Count == 0 ? null : StudyProjection.Fold(events.Select(e => (e.Data, e.Sequence)));
    }

    public async Task<IReadOnlyList<IEvent>?> GetEventsAsync(Guid id, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(id, token: cancel);
        return events.Count == 0 ? null : events;
    }
}

using Marten;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// The only writer of the ledger: every event of a study is appended here, then open pages are told. Decisions read the
/// state they need (documents, never the whole study) and are retried when the stream moved under them.
/// </summary>
public sealed class StudyWriter(IDocumentStore store, LedgerChanges changes, ILogger<StudyWriter> log)
{
    /// <summary>
    /// One writer at a time per study in this process. Marten's append checks the stream's version, so two concurrent
    /// writers of one study conflict; the reactor's appends (tens of fits and predictions in one transaction) lost that
    /// race to a steady stream of small report appends every time, and its refit was dropped after ten tries. Writers
    /// queue here instead, and the version check stays as the guard against any other process.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, SemaphoreSlim> gates = new();

    /// <summary>Starts a study's stream with its first event (StudyDefined or StudyImported).</summary>
    public async Task StartAsync(Guid studyId, object first, string user, CancellationToken cancel)
    {
        await using var session = store.LightweightSession();
        session.LastModifiedBy = user;
        session.CorrelationId = studyId.ToString();
        session.Events.StartStream(studyId, first);
        await session.SaveChangesAsync(cancel);
        changes.Raise(studyId);
    }

    /// <summary>
    /// Reads what <paramref name="decide"/> needs, decides and appends what it decided; when another writer appended to the
    /// study meanwhile, reads and decides again. Returns what was recorded.
    /// </summary>
    public async Task<IReadOnlyList<object>> DecideAsync(Guid studyId, string user, string? causation,
        Func<IQuerySession, Task<IReadOnlyList<object>>> decide, CancellationToken cancel)
    {
        var gate = gates.GetOrAdd(studyId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancel);
        try
        {
            return await DecideOnceAsync(studyId, user, causation, decide, cancel);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<IReadOnlyList<object>> DecideOnceAsync(Guid studyId, string user, string? causation,
        Func<IQuerySession, Task<IReadOnlyList<object>>> decide, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            session.LastModifiedBy = user;
            session.CorrelationId = studyId.ToString();
            session.CausationId = causation;
            var events = await decide(session);
            if (events.Count == 0) return events;
            session.Events.Append(studyId, events);
            try
            {
                await session.SaveChangesAsync(cancel);
                changes.Raise(studyId);
                return events;
            }
            catch (JasperFx.ConcurrencyException) when (attempt < 10)
            {
                log.LogDebug("Study {StudyId} changed while writing; deciding again ({Attempt})", studyId, attempt);
            }
        }
    }
}

/// <summary>In-process notification of committed study changes.</summary>
public sealed class LedgerChanges : ILedgerChanges
{
    public event Action<Guid>? StudyChanged;

    public void Raise(Guid studyId) => StudyChanged?.Invoke(studyId);
}

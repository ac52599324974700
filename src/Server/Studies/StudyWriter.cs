using Marten;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// The only writer of the ledger: every event of a study is appended here, then open pages are told. Decisions read the
/// state they need (documents, never the whole study) and are retried when the stream moved under them.
/// </summary>
public sealed class StudyWriter(IDocumentStore store, LedgerChanges changes, ILogger<StudyWriter> log)
{
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

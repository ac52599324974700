using System.Collections.Concurrent;
using Marten;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Reactors;

/// <summary>
/// Refits that failed heal by themselves. A reactor's failed refit is kept as a <see cref="RefitTrouble"/> (a document, so
/// every Server and the study page see it), and tried again here when its backoff has passed, by the Server that reconciles
/// the trials (one per cluster), until a refit of that study and phase succeeds, here or in the reactor. The reactor goes on
/// with the other studies meanwhile.
/// </summary>
public sealed class RefitRetries(IDocumentStore store, IServiceProvider services, TrialReconciler reconciler,
    TimeProvider clock, ILogger<RefitRetries> log) : BackgroundService
{
    /// <summary>How often troubles are read and those due are tried.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(2);

    /// <summary>The troubles this process knows of, so that a refit that succeeds clears its trouble without a write every time.</summary>
    private readonly ConcurrentDictionary<string, byte> known = new();

    /// <summary>A refit of <paramref name="studyId"/>'s <paramref name="phase"/> laws failed: kept, to be tried again later.</summary>
    public async Task FailedAsync(Guid studyId, RefitCost phase, Exception error, CancellationToken cancel)
    {
        await using var session = store.LightweightSession();
        var before = await session.LoadAsync<RefitTrouble>(RefitTrouble.IdOf(studyId, phase), cancel);
        var trouble = RefitTrouble.After(before, studyId, phase, error, clock.GetUtcNow());
        session.Store(trouble);
        LedgerNotifications.Notify(session, studyId);
        await session.SaveChangesAsync(cancel);
        known[trouble.Id] = 0;
        log.LogError(error, "Refitting study {StudyId} ({Phase} laws) failed, {Failures} time(s) in a row; tried again at {RetryAt:HH:mm:ss}",
            studyId, phase, trouble.Failures, trouble.RetryAt);
    }

    /// <summary>A refit of the study's phase succeeded: its trouble, if it had one, is over.</summary>
    public async Task SucceededAsync(Guid studyId, RefitCost phase, CancellationToken cancel)
    {
        var id = RefitTrouble.IdOf(studyId, phase);
        if (!known.ContainsKey(id)) return;
        await using var session = store.LightweightSession();
        session.Delete<RefitTrouble>(id);
        LedgerNotifications.Notify(session, studyId);
        await session.SaveChangesAsync(cancel);
        known.TryRemove(id, out _);
        log.LogInformation("Study {StudyId}: its {Phase} laws are refitted again", studyId, phase);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Every);
        while (await WaitAsync(timer, stopping))
        {
            try
            {
                await PassAsync(stopping);
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                log.LogWarning("Could not read the refits to try again ({Error}); trying again shortly", ex.Message);
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stopping)
    {
        try { return await timer.WaitForNextTickAsync(stopping); }
        catch (OperationCanceledException) { return false; }
    }

    private async Task PassAsync(CancellationToken cancel)
    {
        IReadOnlyList<RefitTrouble> troubles;
        await using (var session = store.QuerySession())
            troubles = await session.Query<RefitTrouble>().ToListAsync(cancel);
        foreach (var id in known.Keys.Except(troubles.Select(t => t.Id))) known.TryRemove(id, out _);
        foreach (var trouble in troubles) known[trouble.Id] = 0;
        if (!reconciler.Leading) return;
        var refitter = services.GetRequiredService<StudyRefitter>();
        foreach (var trouble in troubles.Where(t => t.RetryAt <= clock.GetUtcNow()))
        {
            // Each on its own, whatever failed (the database too: its backoff grows like any other failure's).
            try
            {
                await refitter.RefitAsync(trouble.StudyId, trouble.Phase, cancel);
                await SucceededAsync(trouble.StudyId, trouble.Phase, cancel);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancel.IsCancellationRequested)
            {
                try
                {
                    await FailedAsync(trouble.StudyId, trouble.Phase, ex, cancel);
                }
                catch (Exception unrecorded) when (unrecorded is not OperationCanceledException)
                {
                    log.LogWarning("Could not record that study {StudyId}'s refit failed again ({Error})", trouble.StudyId, unrecorded.Message);
                }
            }
        }
    }
}

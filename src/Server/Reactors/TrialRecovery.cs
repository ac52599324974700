using Marten;
using Npgsql;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Store;

namespace ScalingLedger.Server.Reactors;

/// <summary>
/// On start: every running study, and every study fitted by an older fitter, is refitted (a refit lost to a crash is done
/// now; the same evidence records nothing). Each study and each phase of its laws on its own: one's trouble does not keep
/// the others, and a refit that fails is kept and tried again (<see cref="RefitRetries"/>). Once per cluster: Servers that
/// start together leave it to the one that takes a PostgreSQL advisory lock first. What the trainers are owed (commands that
/// died with an in-memory bus, trials whose trainer died) is the reconciler's (<see cref="Outbox.TrialReconciler"/>).
/// </summary>
public sealed class TrialRecovery(IServiceScopeFactory scopes, LedgerDatabase database, IHostApplicationLifetime lifetime,
    ILogger<TrialRecovery> log) : IHostedService
{

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = Task.Run(() => RecoverAsync(lifetime.ApplicationStopping)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task RecoverAsync(CancellationToken cancel)
    {
        try
        {
            await using var role = await ClusterLocks.TryTakeAsync(database.ConnectionString, ClusterLocks.Recovery, cancel);
            if (role is null)
            {
                log.LogInformation("Another Server is resuming the unfinished studies");
                return;
            }
            using var scope = scopes.CreateScope();
            var store = scope.ServiceProvider.GetRequiredService<IDocumentStore>();
            var refitter = scope.ServiceProvider.GetRequiredService<StudyRefitter>();
            var retries = scope.ServiceProvider.GetRequiredService<RefitRetries>();
            IReadOnlyList<StudySummaryView> studies;
            await using (var session = store.QuerySession())
                studies = (await session.Query<StudySummaryView>().ToListAsync(cancel)).OrderBy(s => s.DefinedAt).ToList();
            foreach (var summary in studies)
            {
                try
                {
                    await RecoverAsync(summary, store, refitter, retries, cancel);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One study's trouble (a malformed event, a refit that throws) must not keep the others from resuming.
                    log.LogError(ex, "Could not resume study {Name} ({StudyId}); the other studies are resumed", summary.Name, summary.Id);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogError(ex, "Could not resume unfinished studies");
        }
    }

    private async Task RecoverAsync(StudySummaryView summary, IDocumentStore store, StudyRefitter refitter, RefitRetries retries,
        CancellationToken cancel)
    {
        if (summary.Status != StudyStatus.Running || summary.Spec is null)
        {
            await using var session = store.QuerySession();
            var laws = await StudyDocuments.LawsAsync(session, summary.Id, cancel);
            if (laws?.LatestFits.Any(f => f.FitterVersion != LawEngine.FitterVersion) == true)
            {
                log.LogInformation("Refitting study {Name} ({StudyId}) with fitter {Version}", summary.Name, summary.Id, LawEngine.FitterVersion);
                await RefitAsync(summary, refitter, retries, cancel);
            }
            return;
        }
        // Trials owed to the trainers, and trials whose trainer died with the process, are the reconciler's (TrialReconciler).
        await RefitAsync(summary, refitter, retries, cancel);
    }

    private static async Task RefitAsync(StudySummaryView summary, StudyRefitter refitter, RefitRetries retries, CancellationToken cancel)
    {
        foreach (var phase in new[] { RefitCost.Quick, RefitCost.Slow })
        {
            try
            {
                await refitter.RefitAsync(summary.Id, phase, cancel);
                await retries.SucceededAsync(summary.Id, phase, cancel);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or NpgsqlException or TimeoutException))
            {
                await retries.FailedAsync(summary.Id, phase, ex, cancel);
            }
        }
    }
}

using Marten;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Laws;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Trials;

/// <summary>
/// On start: trials that took the process down too often end as failed; with the in-memory transport, queued commands
/// died with the process, so trials of running studies that never ended are sent again (a trial that was running
/// restarts from step 0 as a new attempt); and every running study, and every study fitted by an older fitter, is
/// refitted (a refit lost to a crash is done now; the same evidence records nothing).
/// </summary>
public sealed class TrialRecovery(IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, RecoveryOptions options,
    TimeProvider clock, ILogger<TrialRecovery> log) : IHostedService
{
    private DateTimeOffset startedAt;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Studies defined after this moment had their commands sent by this process: they are not resumed.
        startedAt = clock.GetUtcNow();
        lifetime.ApplicationStarted.Register(() => _ = Task.Run(() => RecoverAsync(lifetime.ApplicationStopping)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task RecoverAsync(CancellationToken cancel)
    {
        try
        {
            using var scope = scopes.CreateScope();
            var store = scope.ServiceProvider.GetRequiredService<IDocumentStore>();
            var dispatcher = scope.ServiceProvider.GetRequiredService<TrialDispatcher>();
            var writer = scope.ServiceProvider.GetRequiredService<StudyWriter>();
            var refitter = scope.ServiceProvider.GetRequiredService<StudyRefitter>();
            IReadOnlyList<StudySummaryView> studies;
            await using (var session = store.QuerySession())
                studies = (await session.Query<StudySummaryView>().ToListAsync(cancel)).OrderBy(s => s.DefinedAt).ToList();
            foreach (var summary in studies)
            {
                try
                {
                    await RecoverAsync(summary, store, dispatcher, writer, refitter, cancel);
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

    private async Task RecoverAsync(StudySummaryView summary, IDocumentStore store, TrialDispatcher dispatcher, StudyWriter writer,
        StudyRefitter refitter, CancellationToken cancel)
    {
        if (summary.Status != StudyStatus.Running || summary.Spec is null)
        {
            await using var session = store.QuerySession();
            var laws = await StudyDocuments.LawsAsync(session, summary.Id, cancel);
            if (laws?.LatestFits.Any(f => f.FitterVersion != LawEngine.FitterVersion) == true)
            {
                log.LogInformation("Refitting study {Name} ({StudyId}) with fitter {Version}", summary.Name, summary.Id, LawEngine.FitterVersion);
                await refitter.RefitAsync(summary.Id, cancel);
            }
            return;
        }
        if (summary.DefinedAt >= startedAt) return;
        var stuck = await writer.DecideAsync(summary.Id, "recovery", null, async session =>
            StudyDecisions.DecideGiveUp(summary, await StudyDocuments.UnfinishedTrialsAsync(session, summary.Id, cancel), clock.GetUtcNow()), cancel);
        if (stuck.Count > 0)
            log.LogWarning("Study {Name}: {Count} trial(s) started {Max} times without ending; recorded as failed", summary.Name, stuck.Count,
                StudyDecisions.MaxAttempts);
        await refitter.RefitAsync(summary.Id, cancel);
        if (!options.ResendUnfinished) return; // a durable broker still holds their commands
        IReadOnlyList<TrialView> pending;
        await using (var session = store.QuerySession())
            pending = StudyDecisions.TrialsToDispatch(summary, await StudyDocuments.UnfinishedTrialsAsync(session, summary.Id, cancel));
        if (pending.Count == 0) return;
        log.LogInformation("Resuming study {Name} ({StudyId}): sending {Count} unfinished trial(s) again", summary.Name, summary.Id, pending.Count);
        foreach (var trial in pending)
            await dispatcher.DispatchAsync(summary.Id, summary.Spec,
                [new(trial.TrialId, trial.Order, trial.Width, trial.LearningRate, trial.Seed)], cancel, trial.Attempt + 1);
    }
}

/// <param name="ResendUnfinished">Send unfinished trials again on start: true with the in-memory transport.</param>
public sealed record RecoveryOptions(bool ResendUnfinished);

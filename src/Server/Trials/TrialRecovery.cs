using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Trials;

/// <summary>
/// On start: with the in-memory transport, queued commands died with the process, so trials of running studies that
/// never ended are sent again (a trial that was running restarts from step 0 as a new attempt); and studies whose
/// fits were made by an older fitter version are refitted.
/// </summary>
public sealed class TrialRecovery(IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, RecoveryOptions options,
    ILogger<TrialRecovery> log) : IHostedService
{
    private DateTimeOffset startedAt;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Studies defined after this moment had their commands sent by this process: they are not resumed.
        startedAt = DateTimeOffset.UtcNow;
        lifetime.ApplicationStarted.Register(() => _ = Task.Run(() => RecoverAsync(lifetime.ApplicationStopping)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task RecoverAsync(CancellationToken cancel)
    {
        try
        {
            using var scope = scopes.CreateScope();
            var queries = scope.ServiceProvider.GetRequiredService<LedgerQueries>();
            var dispatcher = scope.ServiceProvider.GetRequiredService<TrialDispatcher>();
            var ledger = scope.ServiceProvider.GetRequiredService<StudyLedger>();
            foreach (var summary in (await queries.ListStudiesAsync(cancel)).OrderBy(s => s.DefinedAt))
            {
                var view = await queries.GetStudyAsync(summary.Id, cancel: cancel);
                if (view is null) continue;
                if (view.Status != StudyStatus.Running || view.Spec is null)
                {
                    // A study fitted by an older fitter is refitted once by this one (new LawFitted events; the old stay).
                    if (view.LatestFits.Any(f => f.FitterVersion != Domain.Laws.LawEngine.FitterVersion))
                    {
                        log.LogInformation("Refitting study {Name} ({StudyId}) with fitter {Version}", view.Name, view.Id, Domain.Laws.LawEngine.FitterVersion);
                        await ledger.RefitAsync(view.Id, cancel);
                    }
                    continue;
                }
                if (view.DefinedAt >= startedAt) continue;
                // Trials that already took the process down repeatedly end as failed; then a refit completes the study
                // if nothing else is left (also repairing a refit lost to a crash).
                await ledger.GiveUpStuckTrialsAsync(view.Id, cancel);
                view = await queries.GetStudyAsync(summary.Id, cancel: cancel);
                if (view?.Spec is null || view.Status != StudyStatus.Running) continue;
                if (!options.ResendUnfinished)
                {
                    await ledger.RefitAsync(view.Id, cancel); // a durable broker still holds their commands
                    continue;
                }
                var pending = StudyDecisions.TrialsToDispatch(view);
                if (pending.Count == 0)
                {
                    await ledger.RefitAsync(view.Id, cancel);
                    continue;
                }
                log.LogInformation("Resuming study {Name} ({StudyId}): sending {Count} unfinished trial(s) again", view.Name, view.Id, pending.Count);
                foreach (var trial in pending)
                    await dispatcher.DispatchAsync(view.Id, view.Spec,
                        [new(trial.TrialId, trial.Order, trial.Width, trial.LearningRate, trial.Seed)], cancel, trial.Attempt + 1);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogError(ex, "Could not resume unfinished studies");
        }
    }
}

/// <param name="ResendUnfinished">Send unfinished trials again on start: true with the in-memory transport.</param>
public sealed record RecoveryOptions(bool ResendUnfinished);

using JasperFx;
using JasperFx.Events.Daemon;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Reactors;

/// <summary>
/// Hands a reactor that stopped for good back to the async daemon. The daemon's coordinator restarts a reactor that paused
/// on an error, but not one it stopped because its stored progress moved under it
/// (<see cref="ProgressionProgressOutOfOrderException"/>). That happens to a cluster when PostgreSQL restarts: the advisory
/// locks that elect the Server running the reactors (hot/cold) go with the old connections, two Servers run them for a
/// moment, and the one that then holds the lock can be the one whose reactors stopped. Nothing refitted and no study
/// completed after that, on any Server, until a restart (a fault test found it: every trial ended, the study Running for
/// good). Every few seconds this removes a reactor stopped with a failure, so that the coordinator, on the Server that
/// holds the lock, starts it afresh from the stored progress (a page done twice is refitted idempotently).
/// </summary>
public sealed class ReactorWatchdog(IProjectionCoordinator coordinator, ILogger<ReactorWatchdog> log) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var daemon = coordinator.DaemonForMainDatabase();
                    foreach (var agent in daemon.CurrentAgents().Where(a => a.Status == AgentStatus.Stopped && a.Failure is not null))
                    {
                        log.LogWarning("Reactor {Name} stopped ({Failure}); handing it back to be started afresh from its stored progress",
                            agent.Name.Identity, agent.Failure!.Message.Split('\n')[0]);
                        await daemon.StopAgentAsync(agent.Name.Identity);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogWarning("The reactors' watchdog could not look at them ({Error}); looking again in {Seconds} s",
                        ex.Message.Split('\n')[0], Every.TotalSeconds);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

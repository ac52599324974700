using System.Diagnostics;
using System.Security.Claims;
using JasperFx.Events.Projections;
using Marten;
using MassTransit;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Trials;

namespace ScalingLedger.Server.Infrastructure;

/// <summary>A document the health check writes: proof that the ledger's database takes writes now.</summary>
public sealed class HealthProbe
{
    public string Id { get; set; } = "probe";
    public string Server { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

/// <summary>
/// <c>GET /health</c>, truthfully: the database takes a write (timed; a read for an anonymous caller), the bus is connected, and how far each reactor is
/// behind the ledger's last event (on the Server that runs them: hot/cold). 200 when the database and the bus are up and
/// the Server is warm (<see cref="LedgerWarmup"/>; reactors behind are reported, not fatal: they catch up), 503 naming what
/// is down, or <c>warming</c>, otherwise. Why the database is down
/// (its error names hosts and ports) is for admins, as a failed trial's details are (<see cref="FailureDetails"/>); anyone
/// else reads that it is down, and the error is logged. The read model's version, and the events its last rebuild skipped
/// (<see cref="LedgerUpgrade"/>): how many for anyone, which and why for admins.
/// </summary>
public static class LedgerHealth
{
    private static readonly string Server = $"{Environment.MachineName}/{Environment.ProcessId}";

    public static async Task<IResult> CheckAsync(IDocumentStore store, IBusControl bus, TrialReconciler reconciler, bool warm, ClaimsPrincipal user,
        ILogger log, CancellationToken cancel)
    {
        var problems = new List<string>();
        var clock = Stopwatch.StartNew();
        object database;
        object reactors = Array.Empty<object>();
        object? readModel = null;
        try
        {
            // A signed-in caller's check writes (proof the database takes writes now); an anonymous one reads, so that nobody
            // who is not a user can make the ledger write.
            var writes = user.Identity?.IsAuthenticated == true;
            await using (var session = store.LightweightSession())
            {
                if (writes)
                {
                    session.Store(new HealthProbe { Server = Server, At = DateTimeOffset.UtcNow });
                    await session.SaveChangesAsync(cancel);
                }
                else _ = await session.QueryAsync<int>("select 1", cancel);
            }
            database = writes
                ? new { status = "up", writeMs = Math.Round(clock.Elapsed.TotalMilliseconds, 1) }
                : (object)new { status = "up", readMs = Math.Round(clock.Elapsed.TotalMilliseconds, 1) };
            await using (var session = store.QuerySession())
                if (await session.LoadAsync<LedgerVersion>(LedgerUpgrade.VersionId, cancel) is { } version)
                    // Events the last rebuild skipped: how many for anyone, which and why for admins.
                    readModel = new
                    {
                        version = version.Version, rebuiltAt = version.RebuiltAt, skippedEvents = version.Skipped.Count,
                        skipped = FailureDetails.Sees(user) ? version.Skipped : null,
                    };
            var last = (await store.Advanced.FetchEventStoreStatistics(token: cancel)).EventSequenceNumber;
            reactors = (await store.Advanced.AllProjectionProgress(token: cancel))
                .Where(s => s.ShardName != ShardState.HighWaterMark)
                .Select(s => new { name = s.ShardName, sequence = s.Sequence, behind = Math.Max(0, last - s.Sequence) })
                .ToList();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            problems.Add("database");
            var error = ex.Message.Split('\n')[0];
            log.LogWarning("Health check: the database did not take a write ({Error})", error);
            database = FailureDetails.Sees(user) ? new { status = "down", error } : new { status = "down" };
        }
        var health = bus.CheckHealth();
        if (health.Status == BusHealthStatus.Unhealthy) problems.Add("bus");
        var body = new
        {
            status = problems.Count > 0 ? "unhealthy" : warm ? "healthy" : "warming",
            warm,
            down = problems,
            server = Server,
            database,
            bus = new { status = health.Status.ToString().ToLowerInvariant(), description = health.Description },
            reactors,
            readModel,
            reconciling = reconciler.Leading,
        };
        return problems.Count == 0 && warm ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

using System.Diagnostics;
using System.Security.Claims;
using System.Text.Json.Serialization;
using JasperFx.Events.Projections;
using Marten;
using MassTransit;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.Store;

namespace ScalingLedger.Server.Hosting;

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
    /// <summary>The answer: healthy, warming or unhealthy, what is down, and each part's state.</summary>
    public sealed record HealthAnswer(string Status, bool Warm, IReadOnlyList<string> Down, string Server, DatabaseState Database, BusState Bus,
        IReadOnlyList<ReactorState> Reactors, ReadModelState? ReadModel, bool Reconciling);

    /// <summary>The database: up (a signed-in caller's check timed a write, an anonymous one's a read) or down (why, for admins).</summary>
    public sealed record DatabaseState(
        string Status,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? WriteMs = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? ReadMs = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null);

    public sealed record BusState(string Status, string? Description);

    /// <summary>A reactor (a projection or subscription): the last event it took and how far behind the ledger's last it is.</summary>
    public sealed record ReactorState(string Name, long Sequence, long Behind);

    /// <summary>The read model's version and the events its last rebuild skipped: how many for anyone, which and why for admins.</summary>
    public sealed record ReadModelState(int Version, DateTimeOffset RebuiltAt, int SkippedEvents, IReadOnlyList<SkippedEvent>? Skipped);

    private static readonly string Server = $"{Environment.MachineName}/{Environment.ProcessId}";

    public static async Task<IResult> CheckAsync(IDocumentStore store, IBusControl bus, TrialReconciler reconciler, bool warm, ClaimsPrincipal user,
        ILogger log, CancellationToken cancel)
    {
        var problems = new List<string>();
        var clock = Stopwatch.StartNew();
        DatabaseState database;
        IReadOnlyList<ReactorState> reactors = [];
        ReadModelState? readModel = null;
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
            var ms = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            database = writes ? new DatabaseState("up", WriteMs: ms) : new DatabaseState("up", ReadMs: ms);
            await using (var session = store.QuerySession())
                if (await session.LoadAsync<LedgerVersion>(LedgerUpgrade.VersionId, cancel) is { } version)
                    // Events the last rebuild skipped: how many for anyone, which and why for admins.
                    readModel = new ReadModelState(version.Version, version.RebuiltAt, version.Skipped.Count,
                        FailureDetails.Sees(user) ? version.Skipped : null);
            var last = (await store.Advanced.FetchEventStoreStatistics(token: cancel)).EventSequenceNumber;
            reactors = (await store.Advanced.AllProjectionProgress(token: cancel))
                .Where(s => s.ShardName != ShardState.HighWaterMark)
                .Select(s => new ReactorState(s.ShardName, s.Sequence, Math.Max(0, last - s.Sequence)))
                .ToList();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            problems.Add("database");
            var error = ex.Message.Split('\n')[0];
            log.LogWarning("Health check: the database did not take a write ({Error})", error);
            database = new DatabaseState("down", Error: FailureDetails.Sees(user) ? error : null);
        }
        var health = bus.CheckHealth();
        if (health.Status == BusHealthStatus.Unhealthy) problems.Add("bus");
        var body = new HealthAnswer(problems.Count > 0 ? "unhealthy" : warm ? "healthy" : "warming", warm, problems, Server, database,
            new BusState(health.Status.ToString().ToLowerInvariant(), health.Description), reactors, readModel, reconciler.Leading);
        return problems.Count == 0 && warm ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

using Marten;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.Infrastructure;

/// <summary>
/// Before the ledger serves anything: when its documents were built by another version of the read side (or it has
/// events but no documents, as a ledger written before the read side was split), every projection is rebuilt from the
/// events, which are the record. A ledger kept for years opens in every later version this way.
/// </summary>
public sealed class LedgerUpgrade(IDocumentStore store, ILogger<LedgerUpgrade> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using (var session = store.QuerySession())
        {
            var version = await session.LoadAsync<LedgerVersion>("read-model", cancellationToken);
            if (version?.Version == LedgerStore.ReadModelVersion) return;
            var stats = await store.Advanced.FetchEventStoreStatistics(token: cancellationToken);
            if (stats.EventCount > 0)
            {
                log.LogInformation("Rebuilding the ledger's documents from its {Events} events (read side {From} -> {To})",
                    stats.EventCount, version?.Version.ToString() ?? "none", LedgerStore.ReadModelVersion);
                using var daemon = await store.BuildProjectionDaemonAsync();
                foreach (var projection in LedgerProjections.All)
                    await daemon.RebuildProjectionAsync(projection, cancellationToken);
            }
        }
        await using var write = store.LightweightSession();
        write.Store(new LedgerVersion { Version = LedgerStore.ReadModelVersion, RebuiltAt = DateTimeOffset.UtcNow });
        await write.SaveChangesAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

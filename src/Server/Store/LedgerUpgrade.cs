using JasperFx.Events.Daemon;
using Marten;
using Npgsql;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Store;

/// <summary>
/// Before the ledger serves anything: when its documents were built by another version of the read side (or it has
/// events but no documents, as a ledger written before the read side was split), every projection is rebuilt from the
/// events, which are the record. A ledger kept for years opens in every later version this way.
/// The rebuild goes on from where it stopped when the Server stopped in the middle (<see cref="LedgerRebuild"/>: one
/// projection at a time), and an event that cannot be read or applied is skipped rather than keeping the ledger from
/// starting: it is named in one line of the log, listed in <see cref="LedgerVersion.Skipped"/> (shown by <c>/health</c>),
/// and left in the store untouched.
/// </summary>
public sealed class LedgerUpgrade(IDocumentStore store, LedgerDatabase database, ILogger<LedgerUpgrade> log) : IHostedService
{
    public const string VersionId = "read-model";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await LedgerNotifications.InstallAsync(database.ConnectionString, cancellationToken);
        LedgerRebuild progress;
        await using (var session = store.QuerySession())
        {
            var version = await session.LoadAsync<LedgerVersion>(VersionId, cancellationToken);
            if (version?.Version == LedgerStore.ReadModelVersion) return;
            var before = await session.LoadAsync<LedgerRebuild>(new LedgerRebuild().Id, cancellationToken);
            progress = before?.Target == LedgerStore.ReadModelVersion
                ? before
                : new LedgerRebuild { Target = LedgerStore.ReadModelVersion, StartedAt = DateTimeOffset.UtcNow };
            var stats = await store.Advanced.FetchEventStoreStatistics(token: cancellationToken);
            if (stats.EventCount > 0)
            {
                log.LogInformation("Rebuilding the ledger's documents from its {Events} events (read side {From} -> {To}){Resumed}",
                    stats.EventCount, version?.Version.ToString() ?? "none", LedgerStore.ReadModelVersion,
                    progress.Done.Count > 0 ? $", going on after {progress.Done.Count} of {LedgerProjections.All.Count} projections" : "");
                using var daemon = await store.BuildProjectionDaemonAsync();
                foreach (var projection in LedgerProjections.All.Where(p => !progress.Done.Contains(p.Name)))
                {
                    await daemon.RebuildProjectionAsync(projection, cancellationToken);
                    progress.Done.Add(projection.Name);
                    await using var write = store.LightweightSession();
                    write.Store(progress);
                    await write.SaveChangesAsync(cancellationToken);
                }
            }
        }
        var skipped = await SkippedAsync(progress.StartedAt, await UnreadableAsync(cancellationToken), cancellationToken);
        foreach (var bad in skipped)
            log.LogWarning("Rebuild skipped event {Sequence} (stream {Stream}, type {Type}) in {Projections} projections; it stays in the store as " +
                           "it is, and the documents of its study lack it: {Error}", bad.Sequence, bad.StreamId, bad.Type, string.Join(", ", bad.Projections),
                bad.Error);
        await using (var write = store.LightweightSession())
        {
            write.Store(new LedgerVersion { Version = LedgerStore.ReadModelVersion, RebuiltAt = DateTimeOffset.UtcNow, Skipped = [.. skipped] });
            write.Delete<LedgerRebuild>(progress.Id);
            await write.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>How many events are read at a time when looking for those that cannot be read.</summary>
    private const int ScanPage = 5_000;

    /// <summary>
    /// The events this version cannot read (Marten skips them in a rebuild with a warning, and keeps no dead letter of
    /// them): every event is read once, a page at a time, and a page that fails goes on after the event that failed it.
    /// </summary>
    private async Task<IReadOnlyList<(long Sequence, string Error)>> UnreadableAsync(CancellationToken cancel)
    {
        var unreadable = new List<(long, string)>();
        long after = 0;
        await using var session = store.QuerySession();
        while (true)
        {
            try
            {
                // Read whole: this is what fails on an event that cannot be read.
                var page = await session.Events.QueryAllRawEvents().Where(e => e.Sequence > after).OrderBy(e => e.Sequence).Take(ScanPage)
                    .ToListAsync(cancel);
                if (page.Count < ScanPage) return unreadable;
                after = page[^1].Sequence;
            }
            catch (Marten.Exceptions.EventDeserializationFailureException bad) when (bad.Sequence > after)
            {
                unreadable.Add((bad.Sequence, Why(bad)));
                after = bad.Sequence;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failure that names no event (one of a type this version does not know): the page is read one event at a
                // time, so that the scan names it and goes on past it.
                try
                {
                    var (read, last) = await OneByOneAsync(session, after, unreadable, cancel);
                    if (read < ScanPage) return unreadable;
                    after = last;
                }
                catch (Exception again) when (again is not OperationCanceledException)
                {
                    log.LogWarning("Could not look through the events after sequence {After} for ones this version cannot read ({Error}); the rebuild " +
                                   "skips them all the same (Marten logs each)", after, (again.Message + " / " + ex.Message).Split('\n')[0]);
                    return unreadable;
                }
            }
        }
    }

    /// <summary>Why an event cannot be read, as listed: what Marten's deserializer met, or what else failed.</summary>
    private static string Why(Exception ex) => ex is Marten.Exceptions.EventDeserializationFailureException bad
        ? $"cannot be read: {bad.InnerException?.GetType().Name}: {bad.InnerException?.Message ?? bad.Message}"
        : $"cannot be read: {ex.GetType().Name}: {ex.Message}";

    /// <summary>The next page of events read one at a time; those that fail are added to <paramref name="unreadable"/>.</summary>
    private async Task<(int Read, long Last)> OneByOneAsync(IQuerySession session, long after, List<(long, string)> unreadable, CancellationToken cancel)
    {
        var sequences = new List<long>();
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync(cancel);
            await using var command = new NpgsqlCommand(
                $"select seq_id from {LedgerStore.Schema}.mt_events where seq_id > @after order by seq_id limit @page", connection);
            command.Parameters.AddWithValue("after", after);
            command.Parameters.AddWithValue("page", ScanPage);
            await using var reader = await command.ExecuteReaderAsync(cancel);
            while (await reader.ReadAsync(cancel)) sequences.Add(reader.GetInt64(0));
        }
        foreach (var sequence in sequences)
        {
            try
            {
                await session.Events.QueryAllRawEvents().Where(e => e.Sequence == sequence).ToListAsync(cancel);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or NpgsqlException))
            {
                unreadable.Add((sequence, Why(ex)));
            }
        }
        return (sequences.Count, sequences.Count > 0 ? sequences[^1] : after);
    }

    /// <summary>The events this rebuild skipped (unreadable, and the daemon's dead letters since it began), one entry per event.</summary>
    private async Task<IReadOnlyList<SkippedEvent>> SkippedAsync(DateTimeOffset since, IReadOnlyList<(long Sequence, string Error)> unreadable,
        CancellationToken cancel)
    {
        IReadOnlyList<DeadLetterEvent> letters;
        await using (var session = store.QuerySession())
            letters = await session.Query<DeadLetterEvent>().Where(d => d.Timestamp >= since).ToListAsync(cancel);
        if (letters.Count == 0 && unreadable.Count == 0) return [];
        var sequences = letters.Select(l => l.EventSequence).Concat(unreadable.Select(u => u.Sequence)).Distinct().Order().ToArray();
        // Where each one is, read raw: the event itself may be what cannot be read.
        var where = new Dictionary<long, (Guid Stream, string Type)>();
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync(cancel);
            await using var command = new NpgsqlCommand(
                $"select seq_id, stream_id, type from {LedgerStore.Schema}.mt_events where seq_id = any(@sequences)", connection);
            command.Parameters.AddWithValue("sequences", sequences);
            await using var reader = await command.ExecuteReaderAsync(cancel);
            while (await reader.ReadAsync(cancel)) where[reader.GetInt64(0)] = (reader.GetGuid(1), reader.GetString(2));
        }
        return sequences.Select(sequence =>
        {
            var of = letters.Where(l => l.EventSequence == sequence).ToList();
            var error = unreadable.FirstOrDefault(u => u.Sequence == sequence).Error
                ?? (of[0].ExceptionType is { } type ? $"{type}: {of[0].ExceptionMessage}" : of[0].ExceptionMessage);
            var (stream, eventType) = where.TryGetValue(sequence, out var found) ? found : (Guid.Empty, (string?)null);
            // Unreadable: every projection went without it.
            IReadOnlyList<string> projections = of.Count > 0 ? [.. of.Select(l => l.ProjectionName).Distinct().Order()] : ["all"];
            return new SkippedEvent(sequence, stream == Guid.Empty ? null : stream, eventType, projections, error.Split('\n')[0]);
        }).ToList();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using Marten;
using Npgsql;
using ScalingLedger.Server.Store;
using ScalingLedger.Web;

namespace ScalingLedger.Server.ReadSide;

/// <summary>
/// How open pages learn that a study changed, whichever Server wrote it: from what PostgreSQL committed. A trigger on the
/// event table notifies <see cref="Channel"/> with the study's id for every event appended (PostgreSQL sends a transaction's
/// notifications when it commits, once per distinct study, and none for one rolled back); a change kept in a document alone
/// (a refit's trouble) notifies through <see cref="Notify"/> in its own transaction. Each Server listens on one connection of
/// its own and raises <see cref="ILedgerChanges.StudyChanged"/> for the studies named, coalesced: each study at most once per
/// <see cref="Coalesce"/>. A lost connection is opened again, and the pages are then told that any study may have changed
/// (<see cref="Guid.Empty"/>). Each page bounds its own refreshes (<c>LiveUpdates</c>).
/// </summary>
public sealed class LedgerNotifications(LedgerDatabase database, ILogger<LedgerNotifications> log) : BackgroundService, ILedgerChanges
{
    public const string Channel = "ledger_changes";

    /// <summary>How long notifications are gathered before the studies they name are raised (once each).</summary>
    public static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(15);

    private readonly Lock gate = new();
    private readonly HashSet<Guid> pending = [];
    private readonly SemaphoreSlim arrived = new(0, 1);
    private bool triedOnce;
    private TimeSpan pause = TimeSpan.FromMilliseconds(500);

    public event Action<Guid>? StudyChanged;

    /// <summary>Whether this Server is listening now (a page is live across Servers only then).</summary>
    public bool Listening { get; private set; }

    /// <summary>The trigger that notifies on every event appended (created or replaced at start, by every Server: idempotent).</summary>
    public static async Task InstallAsync(string connectionString, CancellationToken cancel)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        // Servers that start together take turns (concurrent CREATE OR REPLACE of one function can fail).
        await using (var turn = new NpgsqlCommand($"select pg_advisory_xact_lock(hashtext('{Channel}'))", connection, transaction))
            await turn.ExecuteNonQueryAsync(cancel);
        var schema = LedgerStore.Schema;
        await using (var ddl = new NpgsqlCommand($"""
            create or replace function {schema}.notify_ledger_change() returns trigger language plpgsql as $$
            begin
              perform pg_notify('{Channel}', new.stream_id::text);
              return null;
            end $$;
            drop trigger if exists notify_ledger_change on {schema}.mt_events;
            create trigger notify_ledger_change after insert on {schema}.mt_events
              for each row execute function {schema}.notify_ledger_change();
            """, connection, transaction))
            await ddl.ExecuteNonQueryAsync(cancel);
        await transaction.CommitAsync(cancel);
    }

    /// <summary>Notifies the study's pages when <paramref name="session"/> commits (a change kept in documents alone).</summary>
    public static void Notify(IDocumentSession session, Guid studyId) =>
        session.QueueSqlCommand("select pg_notify(?, ?)", Channel, studyId.ToString());

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        var raising = RaiseAsync(stopping);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stopping);
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                if (Listening || !triedOnce) log.LogWarning("Cannot hear of the ledger's changes ({Error}): the pages open on this " +
                                                            "Server do not follow the ledger until it listens again; trying again", ex.Message);
                Listening = false;
                triedOnce = true;
                await Task.Delay(pause, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
                pause = TimeSpan.FromSeconds(Math.Min(10, pause.TotalSeconds * 2));
            }
        }
        await raising;
    }

    private async Task ListenAsync(CancellationToken stopping)
    {
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false, KeepAlive = 10 };
        await using var connection = new NpgsqlConnection(target.ConnectionString);
        connection.Notification += (_, e) =>
        {
            if (Guid.TryParse(e.Payload, out var studyId)) Pending(studyId);
        };
        await connection.OpenAsync(stopping);
        await using (var listen = new NpgsqlCommand($"listen {Channel}", connection)) await listen.ExecuteNonQueryAsync(stopping);
        if (!Listening)
        {
            Listening = true;
            pause = TimeSpan.FromMilliseconds(500);
            // What was committed while nobody listened is not known: every page reads its study again.
            Pending(Guid.Empty);
        }
        while (!stopping.IsCancellationRequested)
        {
            // A connection that died quietly is found by asking it something after a silence.
            if (await connection.WaitAsync(Silence, stopping)) continue;
            await using var alive = new NpgsqlCommand("select 1", connection);
            await alive.ExecuteScalarAsync(stopping);
        }
    }

    private void Pending(Guid studyId)
    {
        lock (gate) pending.Add(studyId);
        try { arrived.Release(); }
        catch (SemaphoreFullException) { }
    }

    private async Task RaiseAsync(CancellationToken stopping)
    {
        try
        {
            while (true)
            {
                await arrived.WaitAsync(stopping);
                await Task.Delay(Coalesce, stopping);
                Guid[] studies;
                lock (gate)
                {
                    studies = [.. pending];
                    pending.Clear();
                }
                foreach (var studyId in studies)
                {
                    try { StudyChanged?.Invoke(studyId); }
                    catch (Exception ex) { log.LogError(ex, "A page failed to hear that study {StudyId} changed", studyId); }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}

using Marten;
using MassTransit;
using Npgsql;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Store;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Outbox;

/// <summary>A trial's command was sent for this attempt (the ledger's outbox mark: what was decided and has gone out).</summary>
public sealed class TrialDispatch
{
    /// <summary>The trial's id.</summary>
    public Guid Id { get; set; }
    public Guid StudyId { get; set; }
    public int Attempt { get; set; }
    public DateTimeOffset SentAt { get; set; }
    /// <summary>The bus it went to: with the in-memory transport, a command sent by another process died with it.</summary>
    public string Bus { get; set; } = "";
    /// <summary>How many times this attempt's command was sent again because it was lost (<see cref="LostCommands"/>).</summary>
    public int Resent { get; set; }
}

/// <summary>When a trial's trainer was last heard from (its start, a heartbeat): a document, not an event.</summary>
public sealed class TrialLease
{
    /// <summary>The trial's id.</summary>
    public Guid Id { get; set; }
    public Guid RunId { get; set; }
    public DateTimeOffset LastHeard { get; set; }
}

/// <summary>A coordinate check's command was sent (the outbox mark of a check, as <see cref="TrialDispatch"/> is a trial's).</summary>
public sealed class CoordinateCheckDispatch
{
    /// <summary>The check's id.</summary>
    public Guid Id { get; set; }
    public DateTimeOffset SentAt { get; set; }
    public string Bus { get; set; } = "";
}

/// <param name="Lease">How long a running trial's trainer may stay silent before its attempt is failed (trainers send a heartbeat
/// at a fraction of it).</param>
/// <param name="Every">How often the reconciler looks (it is also woken at once by a decision that owes a command).</param>
/// <param name="DurableBus">RabbitMQ: a sent command outlives this process. In memory: it dies with it.</param>
/// <param name="InProcessSlots">How many trials the trainer in this process runs at once (0: none runs here).</param>
public sealed record ReconcilerOptions(TimeSpan Lease, TimeSpan Every, bool DurableBus, int InProcessSlots = 0);

/// <summary>
/// The ledger is the outbox. Whatever the ledger decided that the trainers must do (a study's trials, the next attempt of a
/// failed one) is committed first, with nothing sent; this reconciler then sends each command the ledger owes and marks it
/// sent (<see cref="TrialDispatch"/>), so a send lost to a crash, a broker outage or a cancelled request is sent on the next
/// pass. It also fails the attempt of a running trial whose trainer went silent past its lease (killed, out of memory, cut
/// off: <see cref="TrialRuns.DecideLeaseExpired"/>), which makes the trial owed again, and repeats the stop of cancelled
/// studies while their trials run. One Server of a cluster does this at a time: it holds a PostgreSQL advisory lock for as
/// long as its connection lives, and another takes over within a few seconds of its death.
/// </summary>
public sealed class TrialReconciler(IServiceScopeFactory scopes, IDocumentStore store, StudyWriter writer, LedgerDatabase database,
    ReconcilerOptions options, TimeProvider clock, ILogger<TrialReconciler> log) : BackgroundService
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    private readonly string bus = Guid.NewGuid().ToString("N");
    private readonly DateTimeOffset startedAt = clock.GetUtcNow();
    private readonly SemaphoreSlim poked = new(0, 1);
    private NpgsqlConnection? leadership;
    private DateTimeOffset lastStopRepeat;
    private DateTimeOffset lastBusy = clock.GetUtcNow();

    /// <summary>Whether this Server is the one reconciling now.</summary>
    public bool Leading => leadership is { State: System.Data.ConnectionState.Open };

    /// <summary>Commands sent since start (for tests).</summary>
    public long Sent => Interlocked.Read(ref sent);

    private long sent;

    /// <summary>Look now: a decision owes the trainers a command.</summary>
    public void Poke()
    {
        try { poked.Release(); }
        catch (SemaphoreFullException) { }
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    if (await LeadAsync(stopping)) await PassAsync(stopping);
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    // The database or the bus is away: the next pass tries again (nothing is lost, the ledger still owes it).
                    log.LogWarning("Reconciling trials failed ({Error}); trying again in {Seconds:F0} s", ex.Message, options.Every.TotalSeconds);
                    await DropLeadershipAsync();
                }
                await poked.WaitAsync(options.Every, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            // The lock goes with the connection: another Server (or the next start) leads at once.
            await DropLeadershipAsync();
        }
    }

    private async Task<bool> LeadAsync(CancellationToken cancel)
    {
        if (Leading)
        {
            // The lock is as alive as the connection: a database that restarted under it took it away.
            try
            {
                await using var alive = new NpgsqlCommand("select 1", leadership);
                await alive.ExecuteScalarAsync(cancel);
                return true;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                log.LogWarning("This Server lost its lead of the trials with its database connection ({Error})", ex.Message);
            }
        }
        await DropLeadershipAsync();
        leadership = await ClusterLocks.TryTakeAsync(database.ConnectionString, ClusterLocks.Reconciler, cancel);
        if (leadership is null) return false;
        log.LogInformation("This Server reconciles the ledger's trials (sends what is owed, watches leases)");
        return true;
    }

    private async Task DropLeadershipAsync()
    {
        if (leadership is null) return;
        await leadership.DisposeAsync();
        leadership = null;
    }

    private async Task PassAsync(CancellationToken cancel)
    {
        await SendChecksAsync(cancel);
        var now = clock.GetUtcNow();
        IReadOnlyList<TrialView> open;
        IReadOnlyList<StudySummaryView> studies;
        IReadOnlyDictionary<Guid, TrialDispatch> marks;
        IReadOnlyDictionary<Guid, TrialLease> leases;
        await using (var session = store.QuerySession())
        {
            open = await StudyDocuments.OpenTrialsAsync(session, cancel);
            if (open.Count == 0) return;
            var studyIds = open.Select(t => t.StudyId).Distinct().ToArray();
            studies = await session.LoadManyAsync<StudySummaryView>(cancel, studyIds);
            marks = (await session.LoadManyAsync<TrialDispatch>(cancel, open.Select(t => t.TrialId).ToArray())).ToDictionary(m => m.Id);
            leases = (await session.LoadManyAsync<TrialLease>(cancel, open.Where(t => t.Status == TrialStatus.Running).Select(t => t.TrialId).ToArray()))
                .ToDictionary(l => l.Id);
        }
        var lost = LostOnThisBus(open, marks, now);
        using var scope = scopes.CreateScope();
        var dispatcher = scope.ServiceProvider.GetRequiredService<TrialDispatcher>();
        foreach (var study in studies)
        {
            var trials = open.Where(t => t.StudyId == study.Id).OrderBy(t => t.Order).ToList();
            await SendOwedAsync(study, trials, marks, lost, dispatcher, cancel);
            await ExpireSilentAsync(study, trials, leases, dispatcher, now, cancel);
        }
        if (now - lastStopRepeat > TimeSpan.FromSeconds(10))
        {
            lastStopRepeat = now;
            // A stop that a trainer missed (it was restarting, the broker was away) is heard the next time.
            foreach (var study in studies.Where(s => s.Status != StudyStatus.Running))
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                limit.CancelAfter(SendTimeout);
                await dispatcher.StopAsync(study.Id, limit.Token);
            }
        }
    }

    /// <summary>Coordinate checks requested and not sent yet (or sent on an in-memory bus that died with its process).</summary>
    private async Task SendChecksAsync(CancellationToken cancel)
    {
        await using var session = store.LightweightSession();
        var pending = await session.Query<CoordinateCheckView>().Where(c => c.Status == CoordinateCheckStatus.Requested).ToListAsync(cancel);
        if (pending.Count == 0) return;
        var marks = (await session.LoadManyAsync<CoordinateCheckDispatch>(cancel, pending.Select(c => c.Id).ToArray())).ToDictionary(m => m.Id);
        var owed = pending.Where(c => c.Request is not null && !(marks.TryGetValue(c.Id, out var mark) && (options.DurableBus || mark.Bus == bus)))
            .ToList();
        if (owed.Count == 0) return;
        var studies = (await session.LoadManyAsync<StudySummaryView>(cancel, owed.Select(c => c.StudyId).Distinct().ToArray())).ToDictionary(s => s.Id);
        using var scope = scopes.CreateScope();
        var dispatcher = scope.ServiceProvider.GetRequiredService<TrialDispatcher>();
        foreach (var check in owed)
        {
            if (studies.GetValueOrDefault(check.StudyId) is not { Spec.Model: not null } study) continue;
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(SendTimeout);
            await dispatcher.CheckCoordinatesAsync(Studies.CoordinateChecks.CommandFor(study, check.Request!), limit.Token);
            session.Store(new CoordinateCheckDispatch { Id = check.Id, SentAt = clock.GetUtcNow(), Bus = bus });
        }
        await session.SaveChangesAsync(cancel);
    }

    /// <summary>
    /// Commands of the in-memory bus that its in-process trainer never took (<see cref="LostCommands"/>): the next pass sends
    /// them again. A lost command once left a trial scheduled for good while the rest of its study ended.
    /// </summary>
    private HashSet<Guid> LostOnThisBus(IReadOnlyList<TrialView> open, IReadOnlyDictionary<Guid, TrialDispatch> marks, DateTimeOffset now)
    {
        // Over RabbitMQ nothing is lost this way; with no trainer here, no command on this bus is ever taken.
        if (options.DurableBus || options.InProcessSlots == 0) return [];
        var sent = new List<SentCommand>();
        foreach (var trial in open)
        {
            if (trial.Status == TrialStatus.Running) lastBusy = now;
            var attempt = trial.Status == TrialStatus.Scheduled ? trial.Attempt + 1 : trial.Attempt;
            if (!marks.TryGetValue(trial.TrialId, out var mark) || mark.Bus != bus || mark.Attempt != attempt) continue;
            sent.Add(new SentCommand(trial.TrialId, mark.SentAt, trial.Status == TrialStatus.Scheduled ? null : trial.StartedAt ?? mark.SentAt,
                mark.Resent));
        }
        var lost = LostCommands.Find(sent, lastBusy, now, options.Lease, inOrder: options.InProcessSlots == 1).ToHashSet();
        foreach (var trialId in lost)
            log.LogWarning("Trial {TrialId}: its command (sent {SentAt:O}) was not taken by this Server's trainer, which ran later commands " +
                           "or nothing since; sending it again", trialId, marks[trialId].SentAt);
        return lost;
    }

    private async Task SendOwedAsync(StudySummaryView study, IReadOnlyList<TrialView> trials, IReadOnlyDictionary<Guid, TrialDispatch> marks,
        IReadOnlySet<Guid> lost, TrialDispatcher dispatcher, CancellationToken cancel)
    {
        if (study.Spec is not { } spec) return;
        var owed = new List<(TrialView Trial, int Attempt, int Resent)>();
        foreach (var trial in trials)
        {
            if (TrialRuns.Owed(study, trial) is not { } attempt) continue;
            var sentBefore = marks.TryGetValue(trial.TrialId, out var mark) && mark.Attempt >= attempt && (options.DurableBus || mark.Bus == bus);
            if (sentBefore && !lost.Contains(trial.TrialId)) continue;
            owed.Add((trial, attempt, sentBefore ? mark!.Resent + 1 : 0));
        }
        if (owed.Count == 0) return;
        if (owed.Any(o => o.Attempt > 1))
            log.LogInformation("Study {Name}: sending {Count} trial(s) the ledger owes the trainers", study.Name, owed.Count);
        await using var session = store.LightweightSession();
        foreach (var (trial, attempt, resent) in owed)
        {
            // A send caught by a broker restart can hang: it is given up after a while and sent on the next pass.
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(SendTimeout);
            await dispatcher.SendAsync(GridPlanner.ToCommand(study.Id, spec,
                new PlannedTrial(trial.TrialId, trial.Order, trial.Width, trial.LearningRate, trial.Seed), attempt), limit.Token);
            session.Store(new TrialDispatch
            {
                Id = trial.TrialId, StudyId = study.Id, Attempt = attempt, SentAt = clock.GetUtcNow(), Bus = bus, Resent = resent,
            });
            Interlocked.Increment(ref sent);
        }
        await session.SaveChangesAsync(cancel);
    }

    private async Task ExpireSilentAsync(StudySummaryView study, IReadOnlyList<TrialView> trials, IReadOnlyDictionary<Guid, TrialLease> leases,
        TrialDispatcher dispatcher, DateTimeOffset now, CancellationToken cancel)
    {
        foreach (var trial in trials.Where(t => t.Status == TrialStatus.Running))
        {
            var heard = LastHeard(trial, leases.GetValueOrDefault(trial.TrialId));
            if (TrialRuns.DecideLeaseExpired(study, trial, heard, options.Lease, now, Gone(heard)).Count == 0) continue;
            var recorded = await writer.DecideAsync(study.Id, "reconciler", null, async session =>
            {
                var current = await session.LoadAsync<TrialView>(trial.TrialId, cancel);
                var summary = await session.LoadAsync<StudySummaryView>(study.Id, cancel);
                if (current is null || summary is null || current.RunId != trial.RunId || current.Attempt != trial.Attempt) return [];
                var lastHeard = LastHeard(current, await session.LoadAsync<TrialLease>(trial.TrialId, cancel));
                return TrialRuns.DecideLeaseExpired(summary, current, lastHeard, options.Lease, clock.GetUtcNow(), Gone(lastHeard));
            }, cancel);
            if (recorded.Count == 0) continue;
            log.LogWarning("Study {Name}: trial {TrialId} (width {Width}, lr {LearningRate}) attempt {Attempt}: {What}", study.Name, trial.TrialId,
                trial.Width, trial.LearningRate, trial.Attempt, recorded[0] switch
                {
                    TrialAttemptFailed f => f.Error + "; it runs again",
                    TrialFailed f => f.Error,
                    _ => "cancelled (its study was cancelled and its trainer is silent)",
                });
            if (trial.RunId is { } run)
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                limit.CancelAfter(SendTimeout);
                await dispatcher.StopRunAsync(study.Id, trial.TrialId, run, limit.Token);
            }
            Poke();
        }
    }

    /// <summary>When the trial's trainer was last heard from: its latest heartbeat for the attempt that counts, or its start.</summary>
    private static DateTimeOffset LastHeard(TrialView trial, TrialLease? lease)
    {
        var heard = trial.StartedAt ?? DateTimeOffset.MinValue;
        if (lease is not null && lease.RunId == trial.RunId && lease.LastHeard > heard) heard = lease.LastHeard;
        return heard;
    }

    /// <summary>With the in-memory transport the trainers run in the Server: one last heard before this process started is gone.</summary>
    private bool Gone(DateTimeOffset lastHeard) => !options.DurableBus && lastHeard < startedAt;
}

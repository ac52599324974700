using Marten;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Intake;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Store;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// The only writer of the ledger: every event of a study is appended here (open pages learn of it from PostgreSQL's
/// notification at commit, <see cref="LedgerNotifications"/>). Decisions read the
/// state they need (documents, never the whole study) and are retried when the stream moved under them.
/// </summary>
public sealed class StudyWriter(IDocumentStore store, TimeProvider clock, ILogger<StudyWriter> log)
{
    /// <summary>
    /// One writer at a time per study in this process. Marten's append checks the stream's version, so two concurrent
    /// writers of one study conflict; the reactor's appends (tens of fits and predictions in one transaction) lost that
    /// race to a steady stream of small report appends every time, and its refit was dropped after ten tries. Writers
    /// queue here instead, and the version check stays as the guard against any other process.
    /// </summary>
    private readonly Dictionary<Guid, Gate> gates = [];

    /// <summary>A study's gate, with how many writers hold or wait for it: it is forgotten when the last one leaves.</summary>
    private sealed class Gate
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);
        public int Users;
    }

    private async Task<Gate> EnterAsync(Guid studyId, CancellationToken cancel)
    {
        Gate gate;
        lock (gates)
        {
            if (!gates.TryGetValue(studyId, out gate!)) gates[studyId] = gate = new Gate();
            gate.Users++;
        }
        try
        {
            await gate.Lock.WaitAsync(cancel);
            return gate;
        }
        catch
        {
            Leave(studyId, gate, held: false);
            throw;
        }
    }

    private void Leave(Guid studyId, Gate gate, bool held = true)
    {
        if (held) gate.Lock.Release();
        lock (gates)
            if (--gate.Users == 0) gates.Remove(studyId);
    }

    /// <summary>Groups of reports the store refused whole and that were appended one by one since start.</summary>
    public long GroupsSplit => Interlocked.Read(ref groupsSplit);

    private long groupsSplit;

    /// <summary>Groups of reports appended so far and the reports in them (their mean size says how much the writer could gather).</summary>
    public (long Groups, long Reports) Grouped => (Interlocked.Read(ref groups), Interlocked.Read(ref groupedReports));

    private long groups;
    private long groupedReports;

    /// <summary>Appends another writer beat to the stream, decided again since start (the study lock keeps Servers from it).</summary>
    public long Conflicts => Interlocked.Read(ref conflicts);

    private long conflicts;

    /// <summary>Studies with a writer or a queue of reports now (for tests and the memory benchmark: idle studies hold nothing).</summary>
    public int Tracked
    {
        get
        {
            lock (gates) lock (reportQueues) return gates.Count + reportQueues.Count;
        }
    }

    /// <summary>Starts a study's stream with its first event (StudyDefined or StudyImported).</summary>
    public async Task StartAsync(Guid studyId, object first, string user, CancellationToken cancel)
    {
        await using var session = store.LightweightSession();
        session.LastModifiedBy = user;
        session.CorrelationId = studyId.ToString();
        var e = session.Events.BuildEvent(first);
        e.UserName = user;
        StudyChain.Extend(session, studyId, null, 0, [e], clock.GetUtcNow());
        session.Events.StartStream(studyId, e);
        await session.SaveChangesAsync(cancel);
    }

    /// <summary>An event of a study moved from another ledger, as it was recorded there.</summary>
    /// <param name="Sequence">The sequence it was recorded at there (its study's data speak that ledger's numbers).</param>
    public sealed record MovedEvent(object Data, string? User, DateTimeOffset Timestamp, string Hash, long Sequence);

    /// <summary>
    /// Starts the stream of a study moved from another ledger (<see cref="StudyTransfer"/>, which checked it): its events as
    /// they were recorded there, each with its user, time, hash and recorded sequence, and this ledger's
    /// <paramref name="record"/> of the import by <paramref name="importer"/>, chained on from the exported head
    /// (<paramref name="chain"/>), in one transaction. A study already here fails the start: nothing is appended.
    /// </summary>
    public async Task StartMovedAsync(Guid studyId, IReadOnlyList<MovedEvent> moved, object record, string importer, StudyChain chain,
        CancellationToken cancel)
    {
        await using var session = store.LightweightSession();
        // No session user: Marten would give it to every moved event recorded without one, and the chain's hash covers the user.
        session.CorrelationId = studyId.ToString();
        var events = moved.Select(m =>
        {
            var e = session.Events.BuildEvent(m.Data);
            e.UserName = m.User;
            e.Timestamp = m.Timestamp;
            e.SetHeader(StudyChain.Header, m.Hash);
            e.SetHeader(LedgerSequence.Header, m.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return e;
        }).ToList();
        var recorded = session.Events.BuildEvent(record);
        recorded.UserName = importer;
        StudyChain.Extend(session, studyId, chain, moved.Count, [recorded], clock.GetUtcNow());
        session.Events.StartStream(studyId, [.. events.Cast<object>(), recorded]);
        await session.SaveChangesAsync(cancel);
    }

    /// <summary>
    /// Reads what <paramref name="decide"/> needs, decides and appends what it decided; when another writer appended to the
    /// study meanwhile, reads and decides again. Returns what was recorded.
    /// </summary>
    public async Task<IReadOnlyList<object>> DecideAsync(Guid studyId, string user, string? causation,
        Func<IQuerySession, Task<IReadOnlyList<object>>> decide, CancellationToken cancel)
    {
        var gate = await EnterAsync(studyId, cancel);
        try
        {
            // The same commit as a group of reports, with one decision in it.
            var request = new WriteRequest(user, causation, null, reads => decide(reads.Session));
            await CommitAsync(studyId, () => [request], cancel);
            return await request.Completion.Task;
        }
        finally
        {
            Leave(studyId, gate);
        }
    }

    /// <summary>
    /// Records one trainer's report. Reports of a study that arrive together are decided in arrival order and appended in
    /// one transaction (group commit): a report reads the documents it needs through <see cref="ReportReads"/>, which
    /// loads those of the whole group at once. The caller's task completes once its events are committed, so a report
    /// is acknowledged only when it is in the ledger. A group holds at most one report of a trial, so each decision sees
    /// everything recorded before it; the order of a trial's reports is the caller's (see Intake/ReportIntake).
    /// </summary>
    public Task<IReadOnlyList<object>> RecordReportAsync(Guid studyId, string user, string? causation, Guid? trialId,
        Func<ReportReads, Task<IReadOnlyList<object>>> decide, CancellationToken cancel)
    {
        var request = new WriteRequest(user, causation, trialId, decide);
        ReportQueue queue;
        bool drain;
        lock (reportQueues)
        {
            if (!reportQueues.TryGetValue(studyId, out queue!)) reportQueues[studyId] = queue = new ReportQueue();
            queue.Pending.AddLast(request);
            drain = !queue.Draining;
            queue.Draining = true;
        }
        if (drain) _ = Task.Run(() => DrainAsync(studyId, queue));
        return request.Completion.Task.WaitAsync(cancel);
    }

    /// <summary>The most reports appended in one transaction.</summary>
    public const int MaxGroup = 256;

    /// <summary>How far down a study's waiting reports a group looks for trials it does not hold yet.</summary>
    private const int MaxLookAhead = 4 * MaxGroup;

    /// <summary>Each study's reports waiting to be appended; a study's queue is forgotten when it is drained.</summary>
    private readonly Dictionary<Guid, ReportQueue> reportQueues = [];

    private sealed class ReportQueue
    {
        public LinkedList<WriteRequest> Pending { get; } = new();
        public bool Draining { get; set; }
    }

    private sealed record WriteRequest(string User, string? Causation, Guid? TrialId, Func<ReportReads, Task<IReadOnlyList<object>>> Decide)
    {
        public TaskCompletionSource<IReadOnlyList<object>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task DrainAsync(Guid studyId, ReportQueue queue)
    {
        while (true)
        {
            lock (reportQueues)
            {
                if (queue.Pending.Count == 0)
                {
                    queue.Draining = false;
                    reportQueues.Remove(studyId);
                    return;
                }
            }
            IReadOnlyList<WriteRequest> group = [];
            var gate = await EnterAsync(studyId, CancellationToken.None);
            try
            {
                // The group is taken once the study's database lock is held: while another Server's writer holds it, what
                // arrives here meanwhile joins this group instead of waiting for the next transaction.
                await CommitAsync(studyId, () => group = TakeGroup(queue));
            }
            catch (Exception ex) when (group.Count > 1 && ex is not JasperFx.ConcurrencyException)
            {
                // The store refused the group: one report's event may be what it cannot hold. Each is appended alone, so
                // only that one fails (and is retried by the transport); the others commit now.
                log.LogWarning(ex, "Study {StudyId}: a group of {Count} reports could not be appended; appending them one by one", studyId, group.Count);
                Interlocked.Increment(ref groupsSplit);
                foreach (var request in group)
                {
                    try
                    {
                        await CommitAsync(studyId, () => [request]);
                    }
                    catch (Exception one)
                    {
                        request.Completion.TrySetException(one);
                    }
                }
            }
            catch (Exception ex)
            {
                // The store failed the whole group (after retries of version conflicts), or failed before the group was taken
                // (the database away): each report is retried by the transport, with its pauses.
                if (group.Count == 0) group = TakeGroup(queue);
                foreach (var request in group) request.Completion.TrySetException(ex);
            }
            finally
            {
                Leave(studyId, gate);
            }
        }
    }

    /// <summary>
    /// The next group from the study's waiting reports. At most one report of a trial per group: the next one decides after
    /// this one is recorded. A trial's later reports stay where they are, in their order, and the group takes other trials'
    /// reports behind them (a trainer's start, checkpoints and end arrive together; stopping at the second would make groups of one).
    /// </summary>
    private List<WriteRequest> TakeGroup(ReportQueue queue)
    {
        List<WriteRequest> group = [];
        lock (reportQueues)
        {
            var trialsInGroup = new HashSet<Guid>();
            var next = queue.Pending.First;
            for (var looked = 0; next is not null && group.Count < MaxGroup && looked < MaxLookAhead; looked++)
            {
                var after = next.Next;
                if (next.Value.TrialId is not { } trialId || trialsInGroup.Add(trialId))
                {
                    group.Add(next.Value);
                    queue.Pending.Remove(next);
                }
                next = after;
            }
        }
        Interlocked.Increment(ref groups);
        Interlocked.Add(ref groupedReports, group.Count);
        return group;
    }

    /// <summary>The transaction lock of a study's writers (a hash of its id; two studies sharing one only take turns).</summary>
    public static long LockKeyOf(Guid studyId)
    {
        Span<byte> bytes = stackalloc byte[16];
        studyId.TryWriteBytes(bytes);
        return BitConverter.ToInt64(bytes[..8]) ^ BitConverter.ToInt64(bytes[8..]);
    }

    /// <summary>
    /// The one way events reach a study's stream: decides each request in order in one session, appends what they decided
    /// (each event with its request's user and causation) in one transaction, and decides them all again when another
    /// writer appended meanwhile. A request whose decision throws fails alone.
    /// </summary>
    /// <param name="take">The requests, taken once the study's lock is first held (and decided again as they are after a conflict).</param>
    private async Task CommitAsync(Guid studyId, Func<IReadOnlyList<WriteRequest>> take, CancellationToken cancel = default)
    {
        IReadOnlyList<WriteRequest>? group = null;
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            session.CorrelationId = studyId.ToString();
            // Across Servers: the study's writers take turns on a transaction lock (the gate above orders this process's own),
            // so that one reads what the other committed instead of deciding on stale reads and conflicting at the append.
            // The stream's version check below still holds if a writer without the lock (an older version) appends.
            await session.BeginTransactionAsync(cancel);
            await session.QueryAsync<int>("select 1 from pg_advisory_xact_lock(?)", cancel, LockKeyOf(studyId));
            group ??= take();
            var head = await session.LoadAsync<StudyChain>(studyId, cancel);
            var reads = await ReportReads.LoadAsync(session, studyId, group.Select(r => r.TrialId), cancel);
            var decided = new List<(WriteRequest Request, IReadOnlyList<object> Events)>();
            var appended = new List<JasperFx.Events.IEvent>();
            foreach (var request in group)
            {
                if (request.Completion.Task.IsCompleted) continue;
                IReadOnlyList<object> events;
                try
                {
                    events = await request.Decide(reads);
                }
                catch (Exception ex) when (ex is not (Npgsql.NpgsqlException or TimeoutException))
                {
                    // A report that cannot be decided fails alone; the others of its group are recorded.
                    request.Completion.TrySetException(ex);
                    continue;
                }
                decided.Add((request, events));
                foreach (var data in events)
                {
                    // Who reported it and which message it came from, per event (a group mixes trainers and messages).
                    var e = session.Events.BuildEvent(data);
                    e.UserName = request.User;
                    e.CausationId = request.Causation;
                    appended.Add(e);
                }
            }
            if (appended.Count > 0)
            {
                // Hash-chained (see EventChain): the head moves in the same transaction, and the append expects the stream
                // where the head says it is, so a writer elsewhere that appended meanwhile makes this one decide again. After a
                // conflict the stream's own version is read: a stream that moved past its head (events appended around the
                // chain, by an older version) is chained on from where it is, and verify names the events in between.
                var from = head is not null && attempt == 1
                    ? head.Version
                    : (await session.Events.FetchStreamStateAsync(studyId, cancel))?.Version ?? 0;
                session.Events.Append(studyId, StudyChain.Extend(session, studyId, head, from, appended, clock.GetUtcNow()), appended);
                try
                {
                    await session.SaveChangesAsync(cancel);
                }
                catch (JasperFx.ConcurrencyException) when (attempt < 10)
                {
                    Interlocked.Increment(ref conflicts);
                    log.LogDebug("Study {StudyId} changed while writing {Requests} decision(s); deciding again ({Attempt})", studyId, group.Count, attempt);
                    continue;
                }
            }
            foreach (var (request, events) in decided) request.Completion.TrySetResult(events);
            return;
        }
    }
}

using Marten;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// The only writer of the ledger: every event of a study is appended here, then open pages are told. Decisions read the
/// state they need (documents, never the whole study) and are retried when the stream moved under them.
/// </summary>
public sealed class StudyWriter(IDocumentStore store, LedgerChanges changes, ILogger<StudyWriter> log)
{
    /// <summary>
    /// One writer at a time per study in this process. Marten's append checks the stream's version, so two concurrent
    /// writers of one study conflict; the reactor's appends (tens of fits and predictions in one transaction) lost that
    /// race to a steady stream of small report appends every time, and its refit was dropped after ten tries. Writers
    /// queue here instead, and the version check stays as the guard against any other process.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, SemaphoreSlim> gates = new();

    /// <summary>Starts a study's stream with its first event (StudyDefined or StudyImported).</summary>
    public async Task StartAsync(Guid studyId, object first, string user, CancellationToken cancel)
    {
        await using var session = store.LightweightSession();
        session.LastModifiedBy = user;
        session.CorrelationId = studyId.ToString();
        session.Events.StartStream(studyId, first);
        await session.SaveChangesAsync(cancel);
        changes.Raise(studyId);
    }

    /// <summary>
    /// Reads what <paramref name="decide"/> needs, decides and appends what it decided; when another writer appended to the
    /// study meanwhile, reads and decides again. Returns what was recorded.
    /// </summary>
    public async Task<IReadOnlyList<object>> DecideAsync(Guid studyId, string user, string? causation,
        Func<IQuerySession, Task<IReadOnlyList<object>>> decide, CancellationToken cancel)
    {
        var gate = gates.GetOrAdd(studyId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancel);
        try
        {
            // The same commit as a group of reports, with one decision in it.
            var request = new WriteRequest(user, causation, null, reads => decide(reads.Session));
            await CommitAsync(studyId, [request], cancel);
            return await request.Completion.Task;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Records one trainer's report. Reports of a study that arrive together are decided in arrival order and appended in
    /// one transaction (group commit): a report reads the documents it needs through <see cref="ReportReads"/>, which
    /// loads those of the whole group at once. The caller's task completes once its events are committed, so a report
    /// is acknowledged only when it is in the ledger. A group holds at most one report of a trial, so each decision sees
    /// everything recorded before it; the order of a trial's reports is the caller's (see Trials/ReportSequencer).
    /// </summary>
    public Task<IReadOnlyList<object>> RecordReportAsync(Guid studyId, string user, string? causation, Guid? trialId,
        Func<ReportReads, Task<IReadOnlyList<object>>> decide, CancellationToken cancel)
    {
        var queue = reportQueues.GetOrAdd(studyId, _ => new ReportQueue());
        var request = new WriteRequest(user, causation, trialId, decide);
        bool drain;
        lock (queue)
        {
            queue.Pending.Enqueue(request);
            drain = !queue.Draining;
            queue.Draining = true;
        }
        if (drain) _ = Task.Run(() => DrainAsync(studyId, queue));
        return request.Completion.Task.WaitAsync(cancel);
    }

    /// <summary>The most reports appended in one transaction.</summary>
    public const int MaxGroup = 256;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, ReportQueue> reportQueues = new();

    private sealed class ReportQueue
    {
        public Queue<WriteRequest> Pending { get; } = new();
        public bool Draining { get; set; }
    }

    private sealed record WriteRequest(string User, string? Causation, Guid? TrialId, Func<ReportReads, Task<IReadOnlyList<object>>> Decide)
    {
        public TaskCompletionSource<IReadOnlyList<object>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task DrainAsync(Guid studyId, ReportQueue queue)
    {
        var gate = gates.GetOrAdd(studyId, _ => new SemaphoreSlim(1, 1));
        while (true)
        {
            List<WriteRequest> group = [];
            await gate.WaitAsync();
            try
            {
                lock (queue)
                {
                    // At most one report of a trial per group: the next one decides after this one is recorded.
                    var trialsInGroup = new HashSet<Guid>();
                    while (group.Count < MaxGroup && queue.Pending.TryPeek(out var next) && (next.TrialId is not { } trialId || trialsInGroup.Add(trialId)))
                        group.Add(queue.Pending.Dequeue());
                    if (group.Count == 0)
                    {
                        queue.Draining = false;
                        return;
                    }
                }
                await CommitAsync(studyId, group);
            }
            catch (Exception ex)
            {
                // The store failed the whole group (after retries of version conflicts): each report is retried by the transport.
                foreach (var request in group) request.Completion.TrySetException(ex);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>
    /// The one way events reach a study's stream: decides each request in order in one session, appends what they decided
    /// (each event with its request's user and causation) in one transaction, and decides them all again when another
    /// writer appended meanwhile. A request whose decision throws fails alone.
    /// </summary>
    private async Task CommitAsync(Guid studyId, IReadOnlyList<WriteRequest> group, CancellationToken cancel = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            session.CorrelationId = studyId.ToString();
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
                session.Events.Append(studyId, appended);
                try
                {
                    await session.SaveChangesAsync(cancel);
                }
                catch (JasperFx.ConcurrencyException) when (attempt < 10)
                {
                    log.LogDebug("Study {StudyId} changed while writing {Requests} decision(s); deciding again ({Attempt})", studyId, group.Count, attempt);
                    continue;
                }
                changes.Raise(studyId);
            }
            foreach (var (request, events) in decided) request.Completion.TrySetResult(events);
            return;
        }
    }
}

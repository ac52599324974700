using System.Collections.Concurrent;

namespace ScalingLedger.Server.Trials;

/// <summary>Where a report stands among its trial's reports: the attempt, and its index in the order the trainer sent them.</summary>
public readonly record struct ReportPosition(Guid TrialId, int Attempt, int Index, bool Last);

/// <summary>
/// Lets a trial's reports from a trainer that names no run (an earlier version) into the ledger in the order the trainer sent
/// them although the Server takes several reports at once (reports that name their run need no order: see TrialReportConsumer):
/// a report waits until the one before it (by index) is recorded. Without it, a trial's end taken before its checkpoints
/// would make them too late to record (a benchmark lost 15% of them that way). Reports with no position (old trainers, stop
/// notices) pass at once. After a restart the Server does not know where a trial stood: a report that is
/// not the first waits at most <see cref="UnknownWait"/> for those before it, then passes (decisions are idempotent; what
/// was recorded before the restart is not recorded twice).
/// </summary>
public sealed class ReportSequencer(ILogger<ReportSequencer> log)
{
    /// <summary>How long a report waits for earlier ones of its trial when this process has seen none.</summary>
    public static readonly TimeSpan UnknownWait = TimeSpan.FromSeconds(2);

    /// <summary>How long a report waits for the one before it (which may be retrying a database hiccup) before it passes.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    /// <summary>A trial's place is forgotten once nothing of it was seen for this long (an attempt abandoned without its last report).</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(10);

    private sealed class Turn
    {
        /// <summary>The index expected next; -1 while unknown (nothing of this trial seen since start).</summary>
        public int Next = -1;
        public TaskCompletionSource Changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long TouchedAt = Environment.TickCount64;
    }

    private readonly ConcurrentDictionary<(Guid, int), Turn> turns = new();
    private long calls;

    /// <summary>Trials whose place is kept (for tests and the memory benchmark).</summary>
    public int Tracked => turns.Count;

    /// <summary>Completes when it is this report's turn.</summary>
    public async Task WaitTurnAsync(ReportPosition position, CancellationToken cancel)
    {
        if (Interlocked.Increment(ref calls) % 1024 == 0) ForgetIdle();
        var turn = turns.GetOrAdd((position.TrialId, position.Attempt), _ => new Turn());
        Volatile.Write(ref turn.TouchedAt, Environment.TickCount64);
        var started = DateTime.UtcNow;
        while (true)
        {
            Task changed;
            lock (turn)
            {
                if (position.Index == 0 && turn.Next < 0) turn.Next = 0;
                if (turn.Next >= 0 && position.Index <= turn.Next) return;
                changed = turn.Changed.Task;
            }
            var waited = DateTime.UtcNow - started;
            var limit = turn.Next < 0 ? UnknownWait : MaxWait;
            if (waited >= limit)
            {
                lock (turn) turn.Next = Math.Max(turn.Next, position.Index);
                if (limit == MaxWait)
                    log.LogWarning("Trial {TrialId}: report {Index} waited {Seconds:F0} s for report {Expected}; recording it anyway",
                        position.TrialId, position.Index, waited.TotalSeconds, turn.Next);
                return;
            }
            await Task.WhenAny(changed, Task.Delay(limit - waited, cancel));
            cancel.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Forgets trials not seen for <see cref="IdleAfter"/>: the map holds the trials in flight, not every one ever run.</summary>
    public void ForgetIdle()
    {
        var before = Environment.TickCount64 - (long)IdleAfter.TotalMilliseconds;
        foreach (var (key, turn) in turns)
            if (Volatile.Read(ref turn.TouchedAt) < before) turns.TryRemove(key, out _);
    }

    /// <summary>The report is recorded: the next one of its trial may pass. A trial's last report forgets the trial.</summary>
    public void Recorded(ReportPosition position)
    {
        if (!turns.TryGetValue((position.TrialId, position.Attempt), out var turn)) return;
        TaskCompletionSource changed;
        lock (turn)
        {
            turn.Next = Math.Max(turn.Next, position.Index + 1);
            changed = turn.Changed;
            turn.Changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
        if (position.Last) turns.TryRemove((position.TrialId, position.Attempt), out _);
    }
}

using System.Collections.Concurrent;

namespace ScalingLedger.Server.Intake;

/// <summary>
/// The runs whose start this process recorded lately, so that a report that came before its run's start (the trainer sent
/// them in order, and the Server takes several at once) waits here for that start, a few milliseconds as a rule, instead of
/// going back to the transport's retry (100 ms, then 500 ms) while it holds a report slot. A start recorded by another
/// Server is not seen here: the wait ends after <see cref="MaxWait"/> and the transport's retry finds the start recorded.
/// Bounded: a run is forgotten <see cref="ForgetAfter"/> after its start, or after a wait for it ended. A report of a run
/// nobody has started (a forged one: a real trial, an unknown run) must not hold the report slots: at most
/// <see cref="MaxWaitingPerRun"/> reports wait for any one run and <see cref="MaxWaiting"/> in all; the others go straight
/// back to the transport's short retry (and then to the error queue's replay).
/// </summary>
public sealed class RunStarts
{
    /// <summary>Reports that may wait here for one run's start at once (a trainer sends its start first: one or two wait).</summary>
    public const int MaxWaitingPerRun = 4;

    /// <summary>Reports that may wait here at once, for any runs: a quarter of the report slots.</summary>
    public const int MaxWaiting = 32;

    /// <summary>How long a report waits here for its run's start before the transport tries it again.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    /// <summary>How long a run is remembered after its start was recorded (late reports of it then find it in the ledger).</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromMinutes(1);

    private sealed class Run
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long TouchedAt = Environment.TickCount64;
        public int Waiting;
    }

    private int waiting;
    private long turnedAway;

    /// <summary>Reports that found no room to wait (the bounds above) and went back to the transport at once.</summary>
    public long TurnedAway => Interlocked.Read(ref turnedAway);

    private readonly ConcurrentDictionary<Guid, Run> runs = new();
    private long calls;
    private long waits;
    private long waitsEnded;

    /// <summary>Runs remembered now (for tests and the memory benchmark).</summary>
    public int Tracked => runs.Count;

    /// <summary>Reports that waited here for their run's start, and of them those whose wait ended without it (to the retry).</summary>
    public (long Waited, long TimedOut) Counts => (Interlocked.Read(ref waits), Interlocked.Read(ref waitsEnded));

    /// <summary>The run's start is committed: reports waiting for it go on.</summary>
    public void Recorded(Guid run)
    {
        Sweep();
        var entry = runs.GetOrAdd(run, _ => new Run());
        Volatile.Write(ref entry.TouchedAt, Environment.TickCount64);
        entry.Started.TrySetResult();
    }

    /// <summary>
    /// True once the run's start is recorded by this process; false when <see cref="MaxWait"/> passed first, or at once when
    /// too many reports wait already (for this run, or in all).
    /// </summary>
    public async Task<bool> WaitAsync(Guid run, CancellationToken cancel)
    {
        Sweep();
        var entry = runs.GetOrAdd(run, _ => new Run());
        if (entry.Started.Task.IsCompleted) return true;
        var forRun = Interlocked.Increment(ref entry.Waiting);
        var inAll = Interlocked.Increment(ref waiting);
        try
        {
            if (forRun > MaxWaitingPerRun || inAll > MaxWaiting)
            {
                Interlocked.Increment(ref turnedAway);
                Volatile.Write(ref entry.TouchedAt, Environment.TickCount64);
                return false;
            }
            Interlocked.Increment(ref waits);
            await entry.Started.Task.WaitAsync(MaxWait, cancel);
            return true;
        }
        catch (TimeoutException)
        {
            Interlocked.Increment(ref waitsEnded);
            Volatile.Write(ref entry.TouchedAt, Environment.TickCount64);
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref entry.Waiting);
            Interlocked.Decrement(ref waiting);
        }
    }

    private void Sweep()
    {
        if (Interlocked.Increment(ref calls) % 1024 != 0) return;
        var before = Environment.TickCount64 - (long)ForgetAfter.TotalMilliseconds;
        foreach (var (key, entry) in runs)
            if (Volatile.Read(ref entry.TouchedAt) < before) runs.TryRemove(key, out _);
    }
}

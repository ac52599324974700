namespace ScalingLedger.Domain.Laws;

/// <summary>
/// A study's laws of one phase that could not be refitted (a fault in the science, not a database hiccup): kept, as a
/// document beside the ledger and never as an event, until a refit of that phase succeeds; it is tried again with a
/// backoff (<see cref="Backoff"/>), and the study page shows it meanwhile, with the laws as they were last fitted.
/// </summary>
public sealed class RefitTrouble
{
    /// <summary>The first retry waits this long; each failure after doubles it, up to <see cref="MaxBackoff"/>.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(10);

    /// <summary>How much of an error is kept and shown (its first line).</summary>
    public const int MaxErrorLength = 300;

    /// <summary><c>{study}/{phase}</c>.</summary>
    public string Id { get; set; } = "";
    public Guid StudyId { get; set; }
    public RefitCost Phase { get; set; }
    public int Failures { get; set; }
    /// <summary>The last failure's error: its type and the first line of its message.</summary>
    public string Error { get; set; } = "";
    public DateTimeOffset Since { get; set; }
    public DateTimeOffset LastFailedAt { get; set; }
    public DateTimeOffset RetryAt { get; set; }

    public static string IdOf(Guid studyId, RefitCost phase) => $"{studyId}/{phase}";

    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row: 5 s, 10 s, 20 s ... at most 10 min.</summary>
    public static TimeSpan Backoff(int failures)
    {
        var doublings = Math.Clamp(failures - 1, 0, 20);
        var wait = FirstBackoff * Math.Pow(2, doublings);
        return wait < MaxBackoff ? wait : MaxBackoff;
    }

    /// <summary>The trouble after one more failure (the first when <paramref name="before"/> is null).</summary>
    public static RefitTrouble After(RefitTrouble? before, Guid studyId, RefitCost phase, Exception error, DateTimeOffset now)
    {
        var failures = (before?.Failures ?? 0) + 1;
        var line = $"{error.GetType().Name}: {error.Message.Split('\n')[0].Trim()}";
        return new RefitTrouble
        {
            Id = IdOf(studyId, phase),
            StudyId = studyId,
            Phase = phase,
            Failures = failures,
            Error = line.Length <= MaxErrorLength ? line : line[..MaxErrorLength] + "…",
            Since = before?.Since ?? now,
            LastFailedAt = now,
            RetryAt = now + Backoff(failures),
        };
    }
}

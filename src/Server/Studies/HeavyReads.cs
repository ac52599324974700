namespace ScalingLedger.Server.Studies;

/// <summary>
/// Reads whose cost grows with a whole study (a replay with <c>?asOf=</c>, every curve, every fit ever made, an audit's refold,
/// an export): any reader may ask for one, so a Server serves <see cref="AtOnce"/> at a time and lets <see cref="Queued"/>
/// more wait; past that it answers 503 with <c>Retry-After</c>, and the ledger's other reads and its writes go on meanwhile.
/// </summary>
public sealed class HeavyReads
{
    public const int AtOnce = 2;
    public const int Queued = 8;
    public const int RetryAfterSeconds = 2;

    private readonly SemaphoreSlim running = new(AtOnce, AtOnce);
    private int inside;
    private long refused;

    /// <summary>Heavy reads refused since start (503).</summary>
    public long Refused => Interlocked.Read(ref refused);

    /// <summary>A turn (dispose it when the read is done), or null when too many are running and waiting already.</summary>
    public async Task<IDisposable?> EnterAsync(CancellationToken cancel)
    {
        if (Interlocked.Increment(ref inside) > AtOnce + Queued)
        {
            Interlocked.Decrement(ref inside);
            Interlocked.Increment(ref refused);
            return null;
        }
        try
        {
            await running.WaitAsync(cancel);
        }
        catch
        {
            Interlocked.Decrement(ref inside);
            throw;
        }
        return new Turn(this);
    }

    /// <summary>The answer when no turn is free.</summary>
    public static IResult Busy(HttpContext context)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem($"This Server is answering {AtOnce} reads of whole studies and {Queued} more wait: ask again in " +
                                    $"{RetryAfterSeconds} s (or leave the curves out: ?checkpoints=last).",
            statusCode: StatusCodes.Status503ServiceUnavailable, title: "Busy with reads of whole studies.");
    }

    private sealed class Turn(HeavyReads reads) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            reads.running.Release();
            Interlocked.Decrement(ref reads.inside);
        }
    }
}

namespace ScalingLedger.Web;

/// <summary>Runs an action at most once per interval however often it is poked (pages refresh on ledger changes).</summary>
public sealed class Throttle(TimeSpan interval, Func<Task> action) : IDisposable
{
    private readonly Lock gate = new();
    private Timer? timer;
    private bool disposed;

    public void Poke()
    {
        lock (gate)
        {
            if (disposed || timer is not null) return;
            timer = new Timer(_ => Fire(), null, interval, Timeout.InfiniteTimeSpan);
        }
    }

    private async void Fire()
    {
        lock (gate)
        {
            timer?.Dispose();
            timer = null;
            if (disposed) return;
        }
        try
        {
            await action();
        }
        catch (Exception)
        {
            // A failed refresh (the page went away, the store hiccuped) must not take the process down;
            // the next change pokes again.
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            timer?.Dispose();
            timer = null;
        }
    }
}

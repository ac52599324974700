namespace ScalingLedger.Web;

/// <summary>
/// Runs an action at most once per interval however often it is poked (pages refresh on ledger changes). A failure of the
/// action is handed to <paramref name="failed"/> (a component hands it to Blazor's DispatchExceptionAsync), never swallowed.
/// </summary>
public sealed class Throttle(TimeSpan interval, Func<Task> action, Func<Exception, Task> failed) : IDisposable
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
        catch (Exception ex)
        {
            // Fire runs on a timer thread: an exception escaping it would take the process down. The component shows it.
            try { await failed(ex); }
            catch (ObjectDisposedException) { } // the page went away meanwhile: there is no one to tell
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

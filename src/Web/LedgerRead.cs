namespace ScalingLedger.Web;

/// <summary>
/// Every page's reads of the ledger go through one guard: a read that fails (a malformed event, the store gone) puts its
/// reason on the page (<see cref="Components.ReadError"/>) instead of leaving a page that never loads or a blank screen.
/// </summary>
public sealed class LedgerRead
{
    /// <summary>Why the last read failed, as the page says it; null while reads succeed.</summary>
    public string? Problem { get; private set; }

    /// <summary>Whether the last read failed.</summary>
    public bool Failed { get; private set; }

    /// <summary>
    /// The failure of the last read, if it failed. Its message (which may name hosts, paths or SQL) is shown to admins only
    /// and logged by <see cref="Components.ReadError"/>.
    /// </summary>
    public Exception? Error { get; private set; }

    /// <summary>Runs a read; a failure (other than the page going away) becomes <see cref="Problem"/>. True when it succeeded.</summary>
    public async Task<bool> TryAsync(Func<Task> read)
    {
        try
        {
            await read();
            Failed = false;
            Error = null;
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Problem = "The ledger could not be read for this page.";
            Failed = true;
            Error = ex;
            return false;
        }
    }

    /// <summary>Something else the page must say (a bad address), shown the same way.</summary>
    public void Say(string? problem)
    {
        Problem = problem;
        Failed = false;
        Error = null;
    }
}

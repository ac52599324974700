namespace ScalingLedger.Cli;

/// <summary>What <c>ledger</c> exits with, one meaning each (the README lists them; scripts test them).</summary>
public static class ExitCodes
{
    /// <summary>Done as asked.</summary>
    public const int Ok = 0;
    /// <summary>Done, and the answer is bad news: a chain that does not verify, a study waited for that ended cancelled.</summary>
    public const int NotGood = 1;
    /// <summary>The command line is wrong (an unknown command or option, a missing argument, a file that cannot be read).</summary>
    public const int Usage = 2;
    /// <summary>No such study, prediction or token.</summary>
    public const int NotFound = 3;
    /// <summary>The ledger wants a token (401), or this token may not do that (403).</summary>
    public const int Denied = 4;
    /// <summary>No ledger answers at the URL.</summary>
    public const int Unreachable = 5;
    /// <summary>The ledger refused what was sent (400, 409, 413): the message says why; nothing was stored.</summary>
    public const int Refused = 6;
    /// <summary>The ledger failed (5xx).</summary>
    public const int ServerError = 7;
    /// <summary>Stopped with Ctrl-C.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit code for an HTTP status the ledger answered with.</summary>
    public static int ForStatus(int status) => status switch
    {
        401 or 403 => Denied,
        404 => NotFound,
        >= 500 => ServerError,
        _ => Refused,
    };
}

/// <summary>A failure to report in one line, with its exit code.</summary>
public sealed class LedgerCliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

namespace ScalingLedger.Server.Hosting;

/// <summary>The <c>Ledger</c> configuration section.</summary>
public sealed class LedgerOptions
{
    /// <summary>Where the embedded PostgreSQL keeps its data (used only without ConnectionStrings:Ledger).</summary>
    public string? DataDirectory { get; set; }
    /// <summary>The database the ledger lives in on the embedded cluster.</summary>
    public string Database { get; set; } = "ledger";
    /// <summary>
    /// Run a trainer inside the Server. Default: true with the in-memory transport, false with RabbitMQ; false where the Server
    /// was built without the trainer (-p:EmbeddedTrainer=false), which refuses to start when this is true (TrainerComposition).
    /// </summary>
    public bool? EmbeddedTrainer { get; set; }
    /// <summary>Trials the embedded trainer runs at once.</summary>
    public int TrainerConcurrency { get; set; } = 1;
    /// <summary>
    /// How long a running trial's trainer may be silent (no start, heartbeat or report) before its attempt is failed and the
    /// trial sent again (trainers send a heartbeat every <c>Trainer:HeartbeatSeconds</c>, 10 s by default).
    /// </summary>
    public int TrialLeaseSeconds { get; set; } = 60;
    /// <summary>
    /// The pauses (milliseconds, comma-separated) between the tries of a report the database did not take, in place, before
    /// it goes to the error queue (about three minutes by default); from there it is tried again until the database is back
    /// (see <see cref="Intake.IntakeRegistration"/>).
    /// </summary>
    public string ReportRetryMilliseconds { get; set; } = "100,500,1000,2000,5000,10000,15000,30000,30000,60000";

    /// <summary>The most all the pauses of <see cref="ReportRetryMilliseconds"/> may add up to.</summary>
    public const int MaxReportRetryMilliseconds = 1_200_000;

    /// <summary>The pauses of <see cref="ReportRetryMilliseconds"/>; a malformed list is a start-up error that names it.</summary>
    public int[] ReportRetryPauses()
    {
        var parts = ReportRetryMilliseconds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var pauses = parts.Select(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture,
            out var ms) && ms > 0 ? ms : -1).ToArray();
        // A report waits unacknowledged meanwhile: all of it must stay well inside RabbitMQ's consumer timeout (30 min).
        return pauses.Length is > 0 and <= 50 && pauses.All(p => p > 0) && pauses.Sum(p => (long)p) <= MaxReportRetryMilliseconds
            ? pauses
            : throw new InvalidOperationException("Ledger:ReportRetryMilliseconds must be 1 to 50 pauses in milliseconds, comma-separated, " +
                                                  $"that add up to at most {MaxReportRetryMilliseconds} (20 min); '{ReportRetryMilliseconds}' is not");
    }

    /// <summary>Ask itself for the first pages after a start, and say ready (<c>/health</c>) only then (see LedgerWarmup).</summary>
    public bool Warmup { get; set; } = true;

    /// <summary>
    /// Threads the reactor's bootstrap may use when refitting laws (the results do not depend on it). One by default, so
    /// that training keeps the other cores.
    /// </summary>
    public int RefitThreads { get; set; } = 1;

    /// <summary>
    /// Require a token for the API and sign-in for the site. Off by default: the ledger is then one local user
    /// (<c>local</c>, an admin) and serves loopback addresses only.
    /// </summary>
    public bool AccessControl { get; set; }
    /// <summary>The first admin's token (any secret of at least 24 characters), never stored: make the team's tokens with it.</summary>
    public string? AdminToken { get; set; }
    /// <summary>The name recorded on events made with <see cref="AdminToken"/>.</summary>
    public string AdminName { get; set; } = "admin";
    /// <summary>The ledger's signing key itself (PEM, or base64 DER): see <c>Provenance.LedgerKey</c>.</summary>
    public string? SigningKey { get; set; }
    /// <summary>A file holding the ledger's signing key (made, mode 0600, when missing): see <c>Provenance.LedgerKey</c>.</summary>
    public string? SigningKeyFile { get; set; }
    /// <summary>
    /// The addresses of the reverse proxies (TLS in front of the Server) whose X-Forwarded-For and X-Forwarded-Proto the Server
    /// believes: the client's address and https then come from them, and the site's cookie is Secure. Empty: no forwarded
    /// header is believed (and with access control off, a request that carries one is refused).
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];
    /// <summary>Origins (scheme://host:port) besides the Server's own whose browsers may send writes (a site behind a proxy).</summary>
    public string[] AllowedOrigins { get; set; } = [];
}

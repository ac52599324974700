namespace ScalingLedger.Server.Infrastructure;

/// <summary>The <c>Ledger</c> configuration section.</summary>
public sealed class LedgerOptions
{
    /// <summary>Where the embedded PostgreSQL keeps its data (used only without ConnectionStrings:Ledger).</summary>
    public string? DataDirectory { get; set; }
    /// <summary>The database the ledger lives in on the embedded cluster.</summary>
    public string Database { get; set; } = "ledger";
    /// <summary>Run a trainer inside the Server. Default: true with the in-memory transport, false with RabbitMQ.</summary>
    public bool? EmbeddedTrainer { get; set; }
    /// <summary>Trials the embedded trainer runs at once.</summary>
    public int TrainerConcurrency { get; set; } = 1;
    /// <summary>
    /// Threads the reactor's bootstrap may use when refitting laws (the results do not depend on it). One by default, so
    /// that training keeps the other cores.
    /// </summary>
    public int RefitThreads { get; set; } = 1;
}

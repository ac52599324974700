namespace ScalingLedger.Server.Hosting;

/// <summary>
/// Who trains this Server's trials: its embedded trainer (where it was built with one, <see cref="EmbeddedTrainer"/>), or
/// trainer processes over RabbitMQ. Asked for (<c>Ledger:EmbeddedTrainer</c>) or left to its default (with the in-memory
/// transport where the build has the trainer), and judged once at start.
/// </summary>
public sealed record TrainerComposition(bool? Asked, bool Built, bool OverRabbit)
{
    /// <summary>Whether the trainer runs inside this Server.</summary>
    public bool Embedded => (Asked ?? (!OverRabbit && Built)) && Built;

    /// <summary>Why the Server must not start: it was asked to train and has no trainer (null when it may).</summary>
    public string? Problem => Asked == true && !Built
        ? "it was built without the embedded trainer (-p:EmbeddedTrainer=false), so it cannot train trials itself: set " +
          "Ledger:EmbeddedTrainer to false and ConnectionStrings:RabbitMq and run trainers (src/Trainer), or build the Server with the trainer"
        : null;

    /// <summary>What an operator should hear at start: no trainer can receive this Server's trials (null when one can).</summary>
    public string? Warning => !Embedded && !OverRabbit
        ? "no trainer can receive this Server's trials: it runs none itself and has no RabbitMQ for trainer processes " +
          "(studies it is asked to train will wait; imports and reads work)"
        : null;
}

using MassTransit;

namespace ScalingLedger.Server.Hosting;

/// <summary>
/// A Server built without the trainer (<c>-p:EmbeddedTrainer=false</c>): compiled in place of <c>EmbeddedTrainer.cs</c>, so the
/// build references neither src/Trainer nor TorchSharp. Its trials are trained by trainer processes over RabbitMQ.
/// </summary>
internal static class EmbeddedTrainer
{
    /// <summary>Whether this Server was built with the trainer.</summary>
    public const bool Built = false;

    // Never called: TrainerComposition.Embedded is false where Built is (a Server asked to train refuses to start instead).
    public static void AddServices(IServiceCollection services, IConfiguration config) => throw NotBuilt();

    public static void AddConsumers(IBusRegistrationConfigurator bus, int concurrency) => throw NotBuilt();

    private static InvalidOperationException NotBuilt() => new("This Server was built without the embedded trainer (-p:EmbeddedTrainer=false).");
}

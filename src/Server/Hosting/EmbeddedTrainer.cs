using MassTransit;
using ScalingLedger.Trainer.Worker;

namespace ScalingLedger.Server.Hosting;

/// <summary>
/// The trainer a Server can run inside itself (src/Trainer: TorchSharp, libtorch, Fashion-MNIST). This file is the Server's one
/// reference to the trainer, and it is compiled only into a Server built with it, the default; a Server built with
/// <c>-p:EmbeddedTrainer=false</c> (a team's Server, src/Server/Dockerfile) gets <c>NoEmbeddedTrainer.cs</c> in its place and
/// ships no TorchSharp and no libtorch (ScalingLedger.Server.csproj chooses).
/// </summary>
internal static class EmbeddedTrainer
{
    /// <summary>Whether this Server was built with the trainer.</summary>
    public const bool Built = true;

    public static void AddServices(IServiceCollection services, IConfiguration config) => services.AddTrainerServices(config);

    public static void AddConsumers(IBusRegistrationConfigurator bus, int concurrency) => bus.AddTrainerConsumers(concurrency);
}

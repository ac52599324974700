using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Contracts;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Trainer.Worker;

public static class TrainerRegistration
{
    /// <summary>The trainer's services; settings bind from the <c>Trainer</c> configuration section.</summary>
    public static IServiceCollection AddTrainerServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<StudyStops>();
        services.AddOptions<TrainerSettings>().Bind(configuration.GetSection("Trainer"));
        return services;
    }

    /// <summary>
    /// The trainer's consumers: RunTrial on the shared <c>run-trial</c> queue, one trial at a time per process
    /// (prefetch 1, so a worker never holds commands it is not running), and StopStudyTrials on a temporary
    /// queue of this instance, so every trainer hears every stop.
    /// </summary>
    public static void AddTrainerConsumers(this IBusRegistrationConfigurator bus, int concurrency = 1)
    {
        bus.AddConsumer<RunTrialConsumer>(c => c.ConcurrentMessageLimit = concurrency)
            .Endpoint(e =>
            {
                e.Name = Queues.RunTrial;
                e.PrefetchCount = concurrency;
                e.ConcurrentMessageLimit = concurrency;
            });
        // Coordinate checks share the trainers' queue discipline: one at a time, on the same workers.
        bus.AddConsumer<RunCoordinateCheckConsumer>().Endpoint(e =>
        {
            e.Name = Queues.RunCoordinateCheck;
            e.PrefetchCount = 1;
            e.ConcurrentMessageLimit = 1;
        });
        bus.AddSingleton(new TrainerSlots(concurrency));
        bus.AddConsumer<StopTrialRunConsumer>().Endpoint(e =>
        {
            e.InstanceId = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}".ToLowerInvariant();
            e.Temporary = true;
        });
        bus.AddConsumer<StopStudyTrialsConsumer>().Endpoint(e =>
        {
            e.InstanceId = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}".ToLowerInvariant();
            e.Temporary = true;
        });
    }
}

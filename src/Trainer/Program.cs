using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ScalingLedger.Contracts;
using ScalingLedger.Trainer.Training;
using ScalingLedger.Trainer.Worker;

// `benchmark [width,width,...]`: the performance figures (see the README). Otherwise: a remote trainer worker that
// takes RunTrial commands from RabbitMQ and reports back through it.
if (args.Length > 0 && args[0] == "benchmark")
{
    var widths = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToList() : [64, 128, 256, 512, 1024, 2048];
    return TrainerBenchmark.Run(new TrainerBenchmark.Options(widths), Console.Out);
}

var builder = Host.CreateApplicationBuilder(args);
var rabbit = builder.Configuration.GetConnectionString("RabbitMq");
if (string.IsNullOrWhiteSpace(rabbit))
{
    Console.Error.WriteLine("The trainer worker needs RabbitMQ: set ConnectionStrings__RabbitMq (for example amqp://guest:guest@127.0.0.1:5672/).");
    return 2;
}

builder.Services.AddTrainerServices(builder.Configuration);
var concurrency = builder.Configuration.GetValue("Trainer:Concurrency", 1);
builder.Services.AddMassTransit(x =>
{
    x.UseLedgerConventions();
    x.AddTrainerConsumers(concurrency);
    x.UsingRabbitMq((context, cfg) =>
    {
        cfg.Host(new Uri(rabbit));
        cfg.ConfigureEndpoints(context);
    });
});
await builder.Build().RunAsync();
return 0;

using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ScalingLedger.Contracts;

namespace ScalingLedger.Trainer.Tests;

public class LedgerBusTests
{
    [Fact]
    public void Every_ledger_bus_has_masstransit_usage_telemetry_off()
    {
        var services = new ServiceCollection();
        services.AddMassTransit(x =>
        {
            x.UseLedgerConventions();
            x.UsingInMemory();
        });
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled.ShouldBeFalse();
    }
}

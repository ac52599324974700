using MassTransit;

namespace ScalingLedger.Contracts;

/// <summary>
/// The conventions every process of the ledger gives its bus (the Server and every trainer call this): part of the wire, with
/// the queue names of <see cref="Queues"/>.
/// </summary>
public static class LedgerBus
{
    public static IBusRegistrationConfigurator UseLedgerConventions(this IBusRegistrationConfigurator bus)
    {
        // Nothing leaves the machine unasked: MassTransit would post its configuration (bus and endpoint names, OS version,
        // time zone) to its vendor minutes after start.
        bus.DisableUsageTelemetry();
        // One endpoint name formatter everywhere, or sends to queue:run-trial go nowhere.
        bus.SetKebabCaseEndpointNameFormatter();
        return bus;
    }
}

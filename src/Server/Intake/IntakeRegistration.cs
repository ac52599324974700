using MassTransit;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Intake;

/// <summary>
/// The report intake's registration: its services, and on the bus the one consumer of every report type a trainer sends
/// (<see cref="ReportIntake{T}"/>) on the reports' queue, with its size limit and its tries in place. The error queue's
/// replay is <see cref="FailedReports"/>'.
/// </summary>
public static class IntakeRegistration
{
    /// <summary>
    /// Reports the Server takes at once, and holds unacknowledged (each trial's recorded in the order they were sent). A
    /// trainer's start, checkpoints and end come close together and a transaction takes one of each trial, so this bounds how
    /// many trials one transaction appends. On a 4,320-trial backlog taken by two Servers, 32 gave 30 reports a transaction and
    /// 27% of bare Marten's rate; 128 gave 253 and 52% (docs/performance.md). Memory: at most this many messages of at most
    /// <see cref="Domain.Studies.ReportValidation.MaxMessageBytes"/> each, 512 MiB at worst (a batch of a trial's checkpoints is some tens of KB).
    /// </summary>
    public const int ReportConcurrency = 128;

    /// <summary>The pauses before a report that came before its run's start is tried again in place (then it is replayed).</summary>
    public static readonly int[] EarlyRetryMilliseconds = [200, 1000];

    /// <summary>What the intake's consumers ask for: the trials this Server knows, and the runs whose start it awaits.</summary>
    public static IServiceCollection AddLedgerIntake(this IServiceCollection services)
    {
        services.AddSingleton<KnownTrials>();
        services.AddSingleton<RunStarts>();
        return services;
    }

    /// <summary>
    /// The consumers of every report type, <see cref="ReportConcurrency"/> at once so that the writer can append those that
    /// arrive together in one transaction. A database hiccup, repeated write conflicts or a report that came before its run's
    /// start retry the report in place; a database outage or restart of up to about three minutes is waited out (the report
    /// stays unacknowledged, and the broker holds the rest) before a report faults to the error queue, from which it is
    /// replayed (<see cref="FailedReports"/>). The tries in place belong to the reports' queue (not the consumer), so that the
    /// replay from the error queue has its own schedule rather than this one nested in it.
    /// </summary>
    public static void AddLedgerIntake(this IBusRegistrationConfigurator bus, LedgerOptions ledger)
    {
        var pauses = ledger.ReportRetryPauses();
        foreach (var type in TrainerReports.Types)
            bus.AddConsumer(typeof(ReportIntake<>).MakeGenericType(type)).Endpoint(e =>
            {
                e.Name = Queues.TrialReports;
                e.ConcurrentMessageLimit = ReportConcurrency;
                e.PrefetchCount = ReportConcurrency;
            });
        bus.AddConfigureEndpointsCallback((context, queue, endpoint) =>
        {
            if (queue != Queues.TrialReports) return;
            // A report too large to be one is refused before it is read.
            endpoint.ConfigureReceive(r => r.UseFilter(new ReportSizeLimit(context.GetRequiredService<ILogger<ReportSizeLimit>>())));
            // The database's troubles are waited out in place; a report before its run's start is tried twice more, shortly,
            // then replayed from the error queue: a report of a run nobody started (forged) must not hold a slot for minutes.
            endpoint.UseMessageRetry(r =>
            {
                r.Ignore<ReportTooEarlyException>();
                r.Intervals(pauses);
            });
            endpoint.UseMessageRetry(r =>
            {
                r.Handle<ReportTooEarlyException>();
                r.Intervals(EarlyRetryMilliseconds);
            });
        });
    }

    /// <summary>Configures the same consumers on another endpoint (the error queue's replay).</summary>
    public static void ConfigureOn(IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
    {
        foreach (var type in TrainerReports.Types) endpoint.ConfigureConsumer(context, typeof(ReportIntake<>).MakeGenericType(type));
    }
}

using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Outbox;

/// <summary>
/// The outbox's registration: what sends the trainers what the ledger owes them (the reconciler and its leases) and the
/// dispatcher it sends through.
/// </summary>
public static class OutboxRegistration
{
    /// <param name="durableBus">The bus keeps what it is sent across a restart (RabbitMQ), so a sent command need not be sent again.</param>
    /// <param name="inProcessSlots">Trials the embedded trainer runs at once (0 without one).</param>
    public static IServiceCollection AddLedgerOutbox(this IServiceCollection services, LedgerOptions ledger, bool durableBus, int inProcessSlots)
    {
        services.AddScoped<TrialDispatcher>();
        services.AddSingleton(new ReconcilerOptions(TimeSpan.FromSeconds(Math.Max(1, ledger.TrialLeaseSeconds)), TimeSpan.FromSeconds(1),
            DurableBus: durableBus, InProcessSlots: inProcessSlots));
        services.AddSingleton<TrialReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<TrialReconciler>());
        return services;
    }
}

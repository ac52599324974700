namespace ScalingLedger.Server.Reactors;

/// <summary>
/// The reactors' registration: the refitter the law reactor (a Marten subscription, registered with the store) calls, the
/// retries of refits that failed, the watchdog that restarts a reactor that stopped, and the refits on start of what a
/// crash left (<see cref="TrialRecovery"/>).
/// </summary>
public static class ReactorRegistration
{
    public static IServiceCollection AddLedgerReactors(this IServiceCollection services)
    {
        services.AddSingleton<StudyRefitter>();
        services.AddSingleton<RefitRetries>();
        services.AddHostedService(sp => sp.GetRequiredService<RefitRetries>());
        services.AddHostedService<ReactorWatchdog>();
        services.AddHostedService<TrialRecovery>();
        return services;
    }
}

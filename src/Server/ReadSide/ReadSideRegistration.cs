using ScalingLedger.Server.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.ReadSide;

/// <summary>
/// The read side's registration: the one listener that tells pages of the ledger's changes, and the queries pages and
/// endpoints read through (studies assembled once per version, heavy reads taking turns). The projections are the store's.
/// </summary>
public static class ReadSideRegistration
{
    public static IServiceCollection AddLedgerReadSide(this IServiceCollection services)
    {
        services.AddSingleton<LedgerNotifications>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerNotifications>());
        services.AddSingleton<ILedgerChanges>(sp => sp.GetRequiredService<LedgerNotifications>());
        services.AddSingleton<HeavyReads>();
        services.AddSingleton<AssembledStudies>();
        services.AddSingleton<LedgerQueries>();
        services.AddSingleton<ILedgerQueries>(sp => sp.GetRequiredService<LedgerQueries>());
        return services;
    }
}

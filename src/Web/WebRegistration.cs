using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Web.Components;

namespace ScalingLedger.Web;

public static class WebRegistration
{
    /// <summary>The site's services. The host provides <see cref="ILedgerQueries"/> and <see cref="ILedgerChanges"/>.</summary>
    public static IServiceCollection AddLedgerWeb(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddScoped<PageSession>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, PageSessionLog>();
        return services;
    }

    public static IEndpointRouteBuilder MapLedgerWeb(this WebApplication app)
    {
        app.UseAntiforgery();
        // Scripts and styles are public (the sign-in page needs its style before anyone signs in).
        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}

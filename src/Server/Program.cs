using ScalingLedger.Server.Infrastructure;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
// Serve the site's assets (Blazor's script, the Web library's files) from the build output in every environment,
// not only in Development: ./run.sh runs the built Server without publishing it.
builder.WebHost.UseStaticWebAssets();
builder.AddLedger();

var app = builder.Build();
if (app.Services.GetRequiredService<LedgerDatabase>().TryStart() is { } problem)
{
    Console.Error.WriteLine($"ScalingLedger cannot start its database: {problem}");
    return 1;
}
app.MapLedger();
await app.RunAsync();
return 0;

public partial class Program;

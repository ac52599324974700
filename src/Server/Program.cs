using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.Store;

// `database start|stop DIR`: the team topology's PostgreSQL (scripts/team.sh).
if (args is ["database", var verb, var directory])
    return await DatabaseCommand.RunAsync(verb, directory, "ledger", Console.Out, Console.Error);

// The content root is the build output, so settings (appsettings.json) are found whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
// Serve the site's assets (Blazor's script, the Web library's files) from the build output in every environment,
// not only in Development: ./run.sh runs the built Server without publishing it.
builder.WebHost.UseStaticWebAssets();
builder.AddLedger();

var app = builder.Build();
var trainers = app.Services.GetRequiredService<TrainerComposition>();
if (trainers.Problem is { } untrainable)
{
    Console.Error.WriteLine($"ScalingLedger will not start: {untrainable}");
    return 3;
}
if (trainers.Warning is { } idle) app.Logger.LogWarning("ScalingLedger: {Warning}", idle);
var urls = app.Configuration["urls"] is { Length: > 0 } configured ? configured : app.Configuration["ASPNETCORE_URLS"] ?? "";
var ports = (app.Configuration["http_ports"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => $"http://*:{p}");
if (ScalingLedger.Server.Access.AccessRegistration.CheckAtStart(
        app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LedgerOptions>>().Value,
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries).Concat(ports), app.Logger) is { } unguarded)
{
    Console.Error.WriteLine($"ScalingLedger will not start: {unguarded}");
    return 3;
}
if (app.Services.GetRequiredService<LedgerDatabase>().TryStart() is { } problem)
{
    Console.Error.WriteLine($"ScalingLedger cannot start its database: {problem}");
    return 1;
}
if (app.Services.GetRequiredService<ScalingLedger.Server.Provenance.LedgerKey>().TryLoad() is { } keyProblem)
{
    Console.Error.WriteLine($"ScalingLedger cannot start without its signing key: {keyProblem}");
    return 1;
}
app.MapLedger();
try
{
    await app.RunAsync();
}
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException or System.Net.Sockets.SocketException)
{
    Console.Error.WriteLine($"ScalingLedger cannot listen: {ex.Message} (is another ledger running? choose another address with --urls)");
    return 2;
}
return 0;

public partial class Program;

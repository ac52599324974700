using ScalingLedger.Server.Infrastructure;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
builder.AddLedger();

var app = builder.Build();
app.MapLedger();
app.Run();

public partial class Program;

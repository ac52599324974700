using System.Security.Claims;
using Marten;
using MassTransit;
using Microsoft.AspNetCore.HttpOverrides;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Intake;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.Predictions;
using ScalingLedger.Server.Reactors;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Store;
using ScalingLedger.Server.Studies;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Hosting;

public static class LedgerRegistration
{
    /// <summary>
    /// Everything the Server hosts, one registration per capability (access, store, read side, reactors, intake, outbox), the
    /// bus (and embedded trainer), the API and the site. The order is the hosted services' start order: the read side is
    /// upgraded before the store's daemon runs the reactors, and the outbox starts before the bus takes reports.
    /// </summary>
    public static WebApplicationBuilder AddLedger(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;
        services.AddOptions<LedgerOptions>().Bind(config.GetSection("Ledger"));
        // The bus and the access schemes are shaped at registration, so these settings are read here, from the same options class.
        var ledger = config.GetSection("Ledger").Get<LedgerOptions>() ?? new LedgerOptions();
        services.AddLedgerAccess(ledger);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<LedgerDatabase>();
        services.AddSingleton<Provenance.LedgerKey>();
        // Before the store's own hosted services (its async daemon runs the reactor): the read side is current first.
        services.AddHostedService<LedgerUpgrade>();
        services.AddSingleton<LedgerWarmup>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerWarmup>());
        services.AddLedgerStore(sp => sp.GetRequiredService<LedgerDatabase>().ConnectionString);
        services.AddLedgerReadSide();
        services.AddSingleton<StudyWriter>();
        services.AddLedgerReactors();
        services.AddSingleton<PredictionAuditor>();
        services.AddSingleton<IPredictionAudits>(sp => sp.GetRequiredService<PredictionAuditor>());

        var rabbit = config.GetConnectionString("RabbitMq");
        var useRabbit = !string.IsNullOrWhiteSpace(rabbit);
        // A Server built without the trainer trains nothing itself: asked to, it refuses to start (Program, TrainerComposition).
        var trainers = new TrainerComposition(ledger.EmbeddedTrainer, EmbeddedTrainer.Built, useRabbit);
        services.AddSingleton(trainers);
        var embeddedTrainer = trainers.Embedded;
        var trainerConcurrency = Math.Max(1, ledger.TrainerConcurrency);
        if (embeddedTrainer) EmbeddedTrainer.AddServices(services, config);
        services.AddLedgerIntake();
        services.AddLedgerOutbox(ledger, durableBus: useRabbit, inProcessSlots: embeddedTrainer ? trainerConcurrency : 0);

        services.AddMassTransit(x =>
        {
            x.UseLedgerConventions();
            x.AddLedgerIntake(ledger);
            if (embeddedTrainer) EmbeddedTrainer.AddConsumers(x, trainerConcurrency);
            if (useRabbit)
                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(new Uri(rabbit!));
                    cfg.ConfigureEndpoints(context);
                    FailedReports.Configure(cfg, context);
                });
            else
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.ConfigureEndpoints(context);
                    FailedReports.Configure(cfg, context);
                });
        });

        services.ConfigureHttpJsonOptions(o => LedgerJson.Configure(o.SerializerOptions));
        // A request that cannot be bound (a body of the wrong shape, a route or query value of the wrong type) is thrown in
        // every environment, so that BadRequestHandler answers it with a 400 naming what could not be read (not thrown, ASP.NET
        // Core answers a bare 400 that names nothing).
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestHandler>();
        services.AddExceptionHandler<UnreadableEventHandler>();
        services.AddOpenApi(ApiDocument.Configure);
        services.AddLedgerWeb();
        return builder;
    }

    /// <param name="site">Map the Blazor site too (a host without the site's static assets, such as a benchmark, leaves it out).</param>
    public static WebApplication MapLedger(this WebApplication app, bool site = true)
    {
        // Behind a TLS proxy: the client's address and scheme as the proxy saw them, from the proxies configured alone.
        var proxies = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LedgerOptions>>().Value.TrustedProxies;
        if (proxies.Length > 0)
        {
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            };
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in proxies) forwarded.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            app.UseForwardedHeaders(forwarded);
        }
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBrowserBoundary();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapStudyEndpoints();
        app.MapPredictionEndpoints();
        app.MapTokenEndpoints();
        Provenance.TrustedLedgers.MapProvenanceEndpoints(app);
        app.MapGet("/health", (IDocumentStore store, IBusControl bus, TrialReconciler reconciler, LedgerWarmup warmup, ClaimsPrincipal user,
                ILoggerFactory logs, CancellationToken cancel) =>
                LedgerHealth.CheckAsync(store, bus, reconciler, warmup.Warm, user, logs.CreateLogger(nameof(LedgerHealth)), cancel))
            .WithTags("Health").AllowAnonymous()
            .WithName("getHealth").Produces<LedgerHealth.HealthAnswer>(StatusCodes.Status200OK).WithLedgerProblems(signedIn: false)
            .Produces<LedgerHealth.HealthAnswer>(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Whether the database takes a write, the bus runs and the reactors keep up; 503 while one does not, or while warming up.");
        if (site)
        {
            app.MapSignIn();
            app.MapLedgerWeb();
        }
        return app;
    }
}

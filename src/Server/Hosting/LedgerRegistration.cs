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
using ScalingLedger.Trainer.Worker;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Hosting;

public static class LedgerRegistration
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

    /// <summary>Everything the Server hosts: the store, the bus (and embedded trainer), the API and the site.</summary>
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
        services.AddSingleton<LedgerNotifications>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerNotifications>());
        services.AddSingleton<ILedgerChanges>(sp => sp.GetRequiredService<LedgerNotifications>());
        services.AddSingleton<StudyWriter>();
        services.AddSingleton<StudyRefitter>();
        services.AddSingleton<RefitRetries>();
        services.AddHostedService(sp => sp.GetRequiredService<RefitRetries>());
        services.AddHostedService<ReactorWatchdog>();
        services.AddSingleton<HeavyReads>();
        services.AddSingleton<AssembledStudies>();
        services.AddSingleton<LedgerQueries>();
        services.AddSingleton<ILedgerQueries>(sp => sp.GetRequiredService<LedgerQueries>());
        services.AddScoped<TrialDispatcher>();
        services.AddSingleton<PredictionAuditor>();
        services.AddSingleton<IPredictionAudits>(sp => sp.GetRequiredService<PredictionAuditor>());

        var rabbit = config.GetConnectionString("RabbitMq");
        var useRabbit = !string.IsNullOrWhiteSpace(rabbit);
        var embeddedTrainer = ledger.EmbeddedTrainer ?? !useRabbit;
        var trainerConcurrency = Math.Max(1, ledger.TrainerConcurrency);
        if (embeddedTrainer) services.AddTrainerServices(config);
        services.AddSingleton<KnownTrials>();
        services.AddSingleton<RunStarts>();
        services.AddHostedService<TrialRecovery>();
        services.AddSingleton(new ReconcilerOptions(TimeSpan.FromSeconds(Math.Max(1, ledger.TrialLeaseSeconds)), TimeSpan.FromSeconds(1),
            DurableBus: useRabbit, InProcessSlots: embeddedTrainer ? trainerConcurrency : 0));
        services.AddSingleton<TrialReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<TrialReconciler>());

        services.AddMassTransit(x =>
        {
            x.UseLedgerConventions();
            // Reports of up to ReportConcurrency trials are taken at once, so that the writer can append those that arrive
            // together in one transaction.
            // A database hiccup, repeated write conflicts or a report that came before its run's start retry the report in place;
            // a database outage or restart of up to about three minutes is waited out (the report stays unacknowledged, and the
            // broker holds the rest) before a report faults to the error queue, from which it is replayed (FailedReports).
            // The tries in place belong to the reports' queue (not the consumer), so that the replay from the error queue has
            // its own schedule rather than this one nested in it.
            var pauses = ledger.ReportRetryPauses();
            ReportIntake.AddTo(x, ReportConcurrency);
            // A report too large to be one is refused before it is read.
            x.AddConfigureEndpointsCallback((context, queue, endpoint) =>
            {
                if (queue != Queues.TrialReports) return;
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
            if (embeddedTrainer) x.AddTrainerConsumers(trainerConcurrency);
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

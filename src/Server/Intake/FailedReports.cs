using System.Globalization;
using System.Net.Sockets;
using MassTransit;
using Npgsql;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Intake;

/// <summary>
/// Reports that used up their tries in place (a database outage longer than <c>Ledger:ReportRetryMilliseconds</c>) go to
/// MassTransit's error queue of the reports, <see cref="Queue"/>, and are replayed from there until the database takes
/// them. The Servers consume that queue too, some at a time (it takes no publications of its own: only what faulted). A
/// replayed report that still meets the database down is sent back to the end of the queue after <see cref="Pause"/>, so
/// that no delivery is held past the broker's consumer timeout; one whose run's start is not recorded yet (its start may be
/// behind it in the queue) after <see cref="EarlyPause"/>, having waited for that start already. Both for up to
/// <see cref="Patience"/>; one that fails for another reason, or past that, goes on to <c>trial-reports_error_error</c>,
/// for a person. A report of a run whose start has not reached the ledger <see cref="EarlyPatience"/> after its first
/// replay (a forged run) is refused.
/// </summary>
public static class FailedReports
{
    public const string Queue = Queues.TrialReports + "_error";

    /// <summary>When the report was first replayed (round-trip UTC), and how many times it was sent back since.</summary>
    public const string SinceHeader = "ScalingLedger-Replay-Since";
    public const string CountHeader = "ScalingLedger-Replay-Count";

    public static readonly TimeSpan Pause = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The pause of a report whose run's start is not recorded yet. Not <see cref="Pause"/>: a trial's reports reach this
    /// queue in order, and a start sent back behind its checkpoints made each of them hold a slot for 30 s (a study stalled
    /// for minutes after a database restart).
    /// </summary>
    public static readonly TimeSpan EarlyPause = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Patience = TimeSpan.FromHours(24);
    public static readonly TimeSpan EarlyPatience = TimeSpan.FromHours(1);

    /// <summary>The endpoint that replays the queue.</summary>
    public static void Configure(IBusFactoryConfigurator cfg, IBusRegistrationContext context) =>
        cfg.ReceiveEndpoint(Queue, e =>
        {
            e.ConfigureConsumeTopology = false;
            // A report that meets the database still down holds its slot for its pause: enough slots that the rest go on.
            e.ConcurrentMessageLimit = 16;
            e.PrefetchCount = 16;
            e.ConfigureReceive(r => r.UseFilter(new ReportSizeLimit(context.GetRequiredService<ILogger<ReportSizeLimit>>())));
            IntakeRegistration.ConfigureOn(e, context);
        });

    public static bool IsReplay(ConsumeContext context) =>
        context.ReceiveContext.InputAddress.AbsolutePath.EndsWith("/" + Queue, StringComparison.Ordinal);

    /// <summary>How many times the report was sent back to the queue already (0 on its first replay).</summary>
    public static int Count(ConsumeContext context) => context.Headers.Get<int>(CountHeader) ?? 0;

    /// <summary>When the report was first replayed (now, on its first replay).</summary>
    public static DateTime Since(ConsumeContext context) =>
        context.Headers.Get<string>(SinceHeader) is { } text
        && DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var since)
            ? since.ToUniversalTime()
            : DateTime.UtcNow;

    /// <summary>A failure that passes by itself: the database or the network away, a conflict, a start not recorded yet.</summary>
    public static bool IsTransient(Exception error) =>
        InChain(error, e => e is NpgsqlException or TimeoutException or SocketException or ReportTooEarlyException or JasperFx.ConcurrencyException);

    /// <summary>A replayed report that may be tried again: the failure passes by itself, and it has not waited too long.</summary>
    public static bool TryLater(ConsumeContext context, Exception error) =>
        IsReplay(context) && IsTransient(error) && DateTime.UtcNow - Since(context) < Patience;

    /// <summary>How long a replayed report that still cannot be recorded waits before it goes back to the queue.</summary>
    public static TimeSpan PauseFor(Exception error) => InChain(error, e => e is ReportTooEarlyException) ? EarlyPause : Pause;

    /// <summary>Whether the error, or one it wraps, is such (the transport hands a consumer's fault over wrapped).</summary>
    private static bool InChain(Exception error, Func<Exception, bool> such)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
            if (such(e)) return true;
        return false;
    }

    /// <summary>Sends the report back to the end of the queue after its pause (this delivery is then acknowledged).</summary>
    public static async Task SendBackAsync<T>(ConsumeContext<T> context, Exception error, ILogger log) where T : class
    {
        var count = Count(context) + 1;
        var since = Since(context);
        var pause = PauseFor(error);
        if (count == 1 || count % 20 == 0)
            log.LogWarning("Replayed {Report} (message {MessageId}) still cannot be recorded ({Error}); tried again every {Seconds:F0} s " +
                           "({Count} so far, since {Since:u})", typeof(T).Name, context.MessageId, error.Message.Split('\n')[0], pause.TotalSeconds,
                count, since);
        await Task.Delay(pause, context.CancellationToken);
        var queue = await context.GetSendEndpoint(context.ReceiveContext.InputAddress);
        await queue.Send(context.Message, send =>
        {
            foreach (var (key, value) in context.Headers.GetAll()) send.Headers.Set(key, value);
            send.Headers.Set(CountHeader, count);
            send.Headers.Set(SinceHeader, since.ToString("O", CultureInfo.InvariantCulture));
        }, context.CancellationToken);
    }
}

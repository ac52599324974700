using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Subscriptions;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Reactors;

/// <summary>
/// The reactor, beside the report path: Marten subscriptions (run by the async daemon after events commit) that refit
/// each study whose evidence changed, one for the quick laws and one for the slow, so the quick never wait for the slow.
/// Reports are appended and acknowledged without waiting for it. Events arrive in
/// pages, so many trials ending during one refit lead to one more refit per study, not one each (coalesced). Its
/// progress is stored with the ledger: a refit cut by a crash is done after the restart (never lost), and refitting
/// the same evidence again records nothing (idempotent). A refit that fails is tried again with a backoff (<see cref="RefitRetries"/>).
/// </summary>
/// <remarks>
/// The refitter is resolved when the first page arrives, not in the constructor: the store builds its subscriptions while it
/// is being built, and the refitter needs the finished store.
/// </remarks>
public abstract class LawReactor(IServiceProvider services, RefitCost phase) : SubscriptionBase
{
    /// <summary>The events that can change what the laws see: trials ending, and imports.</summary>
    public static readonly IReadOnlyList<Type> EventTypes = [.. ReadSide.LedgerProjections.TrialEndTypes, typeof(StudyImported)];

    public override async Task<IChangeListener> ProcessEventsAsync(EventRange page, ISubscriptionController controller,
        IDocumentOperations operations, CancellationToken cancellationToken)
    {
        var refitter = services.GetRequiredService<StudyRefitter>();
        var retries = services.GetRequiredService<RefitRetries>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var studyId in page.Events.Select(e => e.StreamId).Distinct())
        {
            try
            {
                await refitter.RefitAsync(studyId, phase, cancellationToken);
                await retries.SucceededAsync(studyId, phase, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !IsTransient(ex))
            {
                // A fault in the science must not stop the reactor for every other study: this one is kept as a trouble,
                // shown on its page and tried again with a backoff until it succeeds (RefitRetries).
                await retries.FailedAsync(studyId, phase, ex, cancellationToken);
            }
        }
        // Bounded in CPU: after refits that took T, rest about T before the next page, so that however fast evidence
        // arrives a reactor takes at most about half a core from the reports and the trainers (what lands meanwhile is
        // coalesced into the next page's refit).
        var spent = clock.Elapsed;
        if (spent > PaceAbove) await Task.Delay(spent < MaxRest ? spent : MaxRest, cancellationToken);
        return NullChangeListener.Instance;
    }

    private static readonly TimeSpan PaceAbove = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxRest = TimeSpan.FromSeconds(5);

    /// <summary>Database trouble is left to the daemon, which retries the page.</summary>
    private static bool IsTransient(Exception ex) => ex is Npgsql.NpgsqlException or TimeoutException;
}

/// <summary>The reactor of the quick laws (log-linear and optimal-LR lines).</summary>
public sealed class QuickLawReactor(IServiceProvider services) : LawReactor(services, RefitCost.Quick)
{
    public const string SubscriptionName = "law-reactor";
}

/// <summary>The reactor of the slow laws (power laws, fitted by L-BFGS with a bootstrap).</summary>
public sealed class SlowLawReactor(IServiceProvider services) : LawReactor(services, RefitCost.Slow)
{
    public const string SubscriptionName = "power-law-reactor";
}

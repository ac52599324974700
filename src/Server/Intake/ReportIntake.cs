using Marten;
using MassTransit;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Intake;

/// <summary>
/// Takes a trainer's report: reads the state it is about (the trial's document and the study's summary, or the coordinate
/// check's), asks <see cref="ReportDecisions"/> what to do with it, appends what that decides (<see cref="StudyWriter.RecordReportAsync"/>:
/// reports that arrive together are appended in one transaction, idempotently) and acts on the verdict. It decides
/// nothing itself. A report is acknowledged once its events are committed; the laws are refitted beside this path by the
/// reactor (<see cref="Reactors.LawReactor"/>), never in it. A malformed report, or one about a trial the ledger does not have,
/// is refused before it joins a group (a refusal is logged with why, acknowledged, and nothing of it is appended). A report
/// before its run's start waits for it once, then is tried again by the transport; the database's troubles send it back to
/// the error queue to be replayed (<see cref="FailedReports"/>). It is the consumer of every report type a trainer sends
/// (<see cref="TrainerReports.Types"/>, registered by <see cref="IntakeRegistration.AddLedgerIntake(IBusRegistrationConfigurator, Hosting.LedgerOptions)"/>).
/// </summary>
public sealed class ReportIntake<T>(StudyWriter writer, TrialDispatcher dispatcher, KnownTrials known, RunStarts runStarts,
    TrialReconciler reconciler, IDocumentStore store, TimeProvider clock, ILogger<ReportIntake<T>> log) : IConsumer<T>
    where T : class, ITrainerReport
{
    public async Task Consume(ConsumeContext<T> context)
    {
        var report = context.Message;
        try
        {
            if (ReportDecisions.CheckOf(report) is { } checkId) await RecordCheckAsync(context, report, checkId);
            else await RecordAsync(context, report);
        }
        catch (Exception ex) when (FailedReports.TryLater(context, ex))
        {
            await FailedReports.SendBackAsync(context, ex, log);
        }
    }

    private async Task RecordAsync(ConsumeContext context, ITrainerReport report)
    {
        var run = context.Headers.Get<Guid>(ReportHeaders.Run);
        var screened = ReportDecisions.Screen(report);
        if (screened?.Verdict == ReportVerdict.Refuse)
        {
            Refuse(context, report, screened.Why!);
            return;
        }
        var trial = ReportDecisions.TrialOf(report) ?? throw new InvalidOperationException($"{report.GetType().Name} names no trial");
        var renew = screened?.Verdict == ReportVerdict.Renew;
        // A heartbeat that waited out an outage in the error queue says nothing about now (and must not read the database).
        if (renew && FailedReports.IsReplay(context)) return;
        if (!await known.ExistsAsync(report.StudyId, trial, context.CancellationToken))
        {
            // A heartbeat about no trial says nothing: it is not refused aloud.
            if (!renew) Refuse(context, report, $"no trial {trial} in study {report.StudyId}");
            return;
        }
        if (renew)
        {
            var beat = (TrialHeartbeat)report;
            await using var session = store.LightweightSession();
            session.Store(new TrialLease { Id = trial, RunId = beat.RunId, LastHeard = clock.GetUtcNow() });
            await session.SaveChangesAsync(context.CancellationToken);
            return;
        }
        var replayed = FailedReports.IsReplay(context);
        if (replayed && FailedReports.Count(context) == 0 && context.GetRetryAttempt() == 0)
            log.LogInformation("Replaying {Report} of trial {TrialId} from the error queue (its tries in place were used up)",
                report.GetType().Name, trial);

        StudySummaryView? study = null;
        TrialView? before = null;
        var decision = ReportDecision.Ignore("not decided");
        Task<IReadOnlyList<object>> Decide() => writer.RecordReportAsync(report.StudyId, WorkerOf(context), context.MessageId?.ToString(), trial,
            async reads =>
            {
                before = await reads.TrialAsync(trial, context.CancellationToken);
                study = await reads.SummaryAsync(context.CancellationToken);
                decision = ReportDecisions.DecideScreened(report, run, study, before);
                return decision.Events;
            }, context.CancellationToken);
        await Decide();
        // Before its run's start (sent first, taken beside it): it waits here once for that start, then is decided again.
        if (decision.Verdict == ReportVerdict.Retry && run is { } early && await runStarts.WaitAsync(early, context.CancellationToken))
            await Decide();
        await ActAsync(context, report, run, decision, study, before, replayed);
    }

    /// <summary>What follows a decision: a refusal logged, an early report retried, a run told to stop, a failed attempt run again.</summary>
    private async Task ActAsync(ConsumeContext context, ITrainerReport report, Guid? run, ReportDecision decision, StudySummaryView? study,
        TrialView? trial, bool replayed)
    {
        var name = report.GetType().Name;
        switch (decision.Verdict)
        {
            case ReportVerdict.Refuse:
                Refuse(context, report, decision.Why!);
                return;
            case ReportVerdict.Retry when replayed && FailedReports.Count(context) > 0
                                          && clock.GetUtcNow().UtcDateTime - FailedReports.Since(context) > FailedReports.EarlyPatience:
                Refuse(context, report, $"its run {run} has not started in the {FailedReports.EarlyPatience.TotalHours:F0} h since the report was " +
                                        "first replayed (no such run reached the ledger)");
                return;
            case ReportVerdict.Retry:
                // Its run's start is on its way through another Server (or a retry of this one): the transport's retry finds it recorded.
                throw new ReportTooEarlyException(decision.Why!);
        }
        // The reports that wait for this run's start go on first (whatever becomes of a stop sent below).
        if (run is { } started && decision.Events.OfType<TrialStarted>().Any()) runStarts.Recorded(started);
        if (decision.Verdict == ReportVerdict.Ignore && run is { } from && trial is not null && trial.RunId != from)
            log.LogInformation("Ignored {Report} of trial {TrialId} from run {Run}: {Why}", name, trial.TrialId, from, decision.Why);
        if (decision.StopRun is { } stop && trial is not null)
        {
            if (decision.Verdict == ReportVerdict.Record)
                log.LogWarning("Trial {TrialId}: a new run started while run {Run} had not ended (its command was delivered again): " +
                               "the new run is attempt {Attempt}, and the old one is told to stop", trial.TrialId, stop, trial.Attempt + 1);
            await dispatcher.StopRunAsync(report.StudyId, trial.TrialId, stop, context.CancellationToken);
        }
        if (decision.Verdict != ReportVerdict.Record) return;
        // A failed attempt below the limit runs again: the ledger now owes its command (the failure stays as TrialAttemptFailed).
        foreach (var (retried, attempt) in decision.Retries)
        {
            var failed = decision.Events.OfType<TrialAttemptFailed>().First(f => f.TrialId == retried);
            log.LogWarning("Trial {TrialId}: attempt {Attempt} failed ({Error}); running it again as attempt {Next}",
                retried, failed.Attempt, failed.Error, attempt);
            reconciler.Poke();
        }
        if (study is not null && trial is not null && decision.End is { } end)
            log.LogInformation("Study {Name}: width {Width}, lr {LearningRate}, seed {Seed} {Outcome}",
                study.Name, trial.Width, trial.LearningRate, trial.Seed, end.GetType().Name.Replace("Trial", "").ToLowerInvariant());
    }

    /// <summary>A coordinate check's result or failure: recorded once, for a check the study asked for.</summary>
    private async Task RecordCheckAsync(ConsumeContext context, ITrainerReport report, Guid checkId)
    {
        var result = (IStudyEvent)report;
        if (ReportDecisions.Screen(report) is { } malformed)
        {
            Refuse(context, report, malformed.Why!);
            return;
        }
        var decision = ReportDecision.Ignore("not decided");
        await writer.RecordReportAsync(result.StudyId, WorkerOf(context), context.MessageId?.ToString(), null, async reads =>
        {
            var study = await reads.SummaryAsync(context.CancellationToken);
            var check = await reads.CoordinateCheckAsync(checkId, context.CancellationToken);
            decision = ReportDecisions.DecideCheck(result, study, check, checkId);
            return decision.Events;
        }, context.CancellationToken);
        if (decision.Verdict == ReportVerdict.Refuse) Refuse(context, report, decision.Why!);
    }

    private static string WorkerOf(ConsumeContext context) =>
        "trainer@" + (context.Host?.MachineName is { Length: > 0 and <= ReportValidation.MaxNameLength } machine ? machine : "unknown");

    /// <summary>A report the ledger will not record: logged with why, acknowledged, nothing appended.</summary>
    private void Refuse(ConsumeContext context, object report, string why) =>
        log.LogWarning("Refused {Report} from {Worker} (message {MessageId}) about study {StudyId}: {Why}",
            report.GetType().Name, WorkerOf(context), context.MessageId, (report as ITrainerReport)?.StudyId, why);
}

/// <summary>A report from a run whose start is not recorded yet: the consumer's retry records it once the start is.</summary>
public sealed class ReportTooEarlyException(string message) : Exception(message);

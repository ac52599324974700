using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ScalingLedger.Contracts;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Trainer.Worker;

/// <summary>Which studies this trainer process was told to stop, and the trials it is running now (any number).</summary>
public sealed class StudyStops
{
    private readonly ConcurrentDictionary<Guid, bool> stopped = new();
    /// <summary>The runs in progress here, by run.</summary>
    private readonly ConcurrentDictionary<Guid, (Guid StudyId, CancellationTokenSource Cancel)> running = new();

    public bool IsStopped(Guid studyId) => stopped.ContainsKey(studyId);

    /// <summary>Marks the study stopped and cancels every trial of it running here.</summary>
    public void Stop(Guid studyId)
    {
        stopped[studyId] = true;
        foreach (var (_, trial) in running)
            if (trial.StudyId == studyId) trial.Cancel.Cancel();
    }

    /// <summary>Stops one run, if it runs here.</summary>
    public void StopRun(Guid runId)
    {
        if (running.TryGetValue(runId, out var run)) run.Cancel.Cancel();
    }

    public CancellationTokenSource Begin(Guid studyId, Guid runId, CancellationToken outer)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        running[runId] = (studyId, cts);
        if (IsStopped(studyId)) cts.Cancel();
        return cts;
    }

    public void End(Guid runId)
    {
        if (running.TryRemove(runId, out var run)) run.Cancel.Dispose();
    }
}

/// <summary>How many trials this trainer process runs at once.</summary>
public sealed class TrainerSlots(int concurrency)
{
    public SemaphoreSlim Free { get; } = new(Math.Max(1, concurrency), Math.Max(1, concurrency));
}

/// <summary>
/// Takes a RunTrial command, starts the trial and acknowledges the command once the trial has reported its start: the trial
/// then runs on beside the bus, sending a <see cref="TrialHeartbeat"/> every <see cref="TrainerSettings.HeartbeatSeconds"/>,
/// so a trial of any length never holds a command past RabbitMQ's consumer timeout. A trainer that dies before the start is
/// reported leaves its command unacknowledged (RabbitMQ gives it to another); one that dies after falls silent, and the
/// Server's lease runs the trial again. Every delivery is a run of its own (<c>RunId</c>), which each report names.
/// </summary>
/// <remarks>The trial publishes through the bus itself (<see cref="IBus"/>), never through the consume context, which ends when
/// the command is acknowledged.</remarks>
public sealed class RunTrialConsumer(StudyStops stops, TrainerSlots slots, IBus bus, IOptions<TrainerSettings> settings,
    IHostApplicationLifetime lifetime, ILogger<RunTrialConsumer> log) : IConsumer<RunTrial>
{
    /// <summary>Recordings a replaying trainer has loaded, by path.</summary>
    private static readonly ConcurrentDictionary<string, TrialRecording> Recordings = new();

    public async Task Consume(ConsumeContext<RunTrial> context)
    {
        var cmd = context.Message;
        if (stops.IsStopped(cmd.StudyId))
        {
            await context.Publish(new TrialCancelled(cmd.StudyId, cmd.TrialId, null, DateTimeOffset.UtcNow));
            return;
        }
        await slots.Free.WaitAsync(context.CancellationToken);
        var run = Guid.NewGuid();
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var returned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var overBroker = context.ReceiveContext.InputAddress.Scheme != "loopback"; // in memory: nothing to acknowledge
        var trial = Task.Run(async () =>
        {
            try
            {
                await RunAsync(cmd, run, reported, returned.Task, overBroker);
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Trial {TrialId} (run {Run}) stopped without an end", cmd.TrialId, run);
            }
            finally
            {
                reported.TrySetResult();
                slots.Free.Release();
            }
        }, CancellationToken.None);
        // Acknowledged once its first report is out (or the trial is over already).
        await Task.WhenAny(reported.Task, trial);
        returned.TrySetResult();
    }

    /// <summary>How long one publish may take before it is given up and tried again (a publish caught by a broker restart can hang).</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Publishes a report, waiting out a broker that is away (restarting, cut off) rather than losing it: tried again with
    /// growing pauses until it is taken or the trainer stops. The trial waits meanwhile. A report sent twice this way is
    /// recorded once (the Server's decisions are idempotent).
    /// </summary>
    private void Send(object report, Action<PublishContext> headers, Guid trialId)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        for (var tries = 1; ; tries++)
        {
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
                limit.CancelAfter(PublishTimeout);
                bus.Publish(report, report.GetType(), headers, limit.Token).GetAwaiter().GetResult();
                if (tries > 1) log.LogInformation("Trial {TrialId}: the broker took the report again after {Tries} tries", trialId, tries);
                return;
            }
            catch (Exception ex) when (!lifetime.ApplicationStopping.IsCancellationRequested)
            {
                if (tries == 1) log.LogWarning("Trial {TrialId}: the broker did not take a report ({Error}); trying again", trialId, ex.Message);
                Thread.Sleep(pause);
                pause = TimeSpan.FromSeconds(Math.Min(5, pause.TotalSeconds * 2));
            }
        }
    }

    private async Task RunAsync(RunTrial cmd, Guid run, TaskCompletionSource reported, Task returned, bool acknowledged)
    {
        var trainer = settings.Value;
        if (trainer.Replay is null)
            log.LogInformation("Trial {TrialId} (run {Run}): width {Width}, lr {LearningRate}, seed {Seed}, {Steps} steps",
                cmd.TrialId, run, cmd.Width, cmd.LearningRate, cmd.Seed, cmd.Steps);
        var cts = stops.Begin(cmd.StudyId, run, lifetime.ApplicationStopping);
        // Reports are sent in order from the trial's thread; each carries its run, so that the Server tells this run's attempt
        // from any other's and holds a report that overtakes its run's start until that start is recorded.
        var reports = new ReportBuffer(report =>
        {
            if (report is TrialStarted start) report = start with { RunId = run };
            Send(report, sent => sent.Headers.Set(ReportHeaders.Run, run), cmd.TrialId);
            // Over a broker, a trial that kills its trainer at once (out of memory) must not take the process down before the
            // command's acknowledgement reaches the broker, or the broker would hand it to trainer after trainer without the
            // ledger counting attempts: the trial waits a moment after its start (in memory there is nothing to acknowledge).
            if (reported.TrySetResult() && acknowledged)
            {
                returned.Wait(lifetime.ApplicationStopping);
                Thread.Sleep(TimeSpan.FromMilliseconds(trainer.AcknowledgementGraceMilliseconds));
            }
        });
        var every = TimeSpan.FromSeconds(Math.Max(0.2, trainer.HeartbeatSeconds));
        await using var heartbeat = new Timer(_ =>
        {
            var limit = new CancellationTokenSource(every);
            bus.Publish(new TrialHeartbeat(cmd.StudyId, cmd.TrialId, run, trainer.WorkerId, DateTimeOffset.UtcNow), limit.Token)
                .ContinueWith(t =>
                {
                    limit.Dispose();
                    if (t.IsFaulted) log.LogDebug(t.Exception, "Could not send a heartbeat of trial {TrialId}", cmd.TrialId);
                }, TaskScheduler.Default);
        }, null, every, every);
        try
        {
            // Training is synchronous CPU work with thread-bound dispose scopes: give it a thread of its own.
            // On shutdown the trial is abandoned unreported: the Server runs it again when its lease runs out.
            void Report(object report) => reports.Report(report);
            var end = await Task.Factory.StartNew(
                () => trainer.Replay is { } recording
                    ? ReplayRunner.Run(cmd, Recordings.GetOrAdd(recording, TrialRecording.Load), trainer, Report, cts.Token,
                        trainer.ReplayReportsPerSecond, lifetime.ApplicationStopping)
                    : TrialRunner.Run(cmd, trainer, Report, cts.Token, lifetime.ApplicationStopping,
                        ex => log.LogWarning(ex, "Trial {TrialId} failed", cmd.TrialId)),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            if (trainer.Replay is null) log.LogInformation("Trial {TrialId} ended: {End}", cmd.TrialId, end.GetType().Name);
        }
        finally
        {
            // A trial abandoned on shutdown still delivers the checkpoints it gathered.
            try { reports.Flush(); } catch (Exception ex) when (ex is not OutOfMemoryException) { log.LogDebug(ex, "Could not send the last checkpoints"); }
            stops.End(run);
        }
    }
}

/// <summary>Stops one run of a trial if it runs here (the Server no longer counts its attempt).</summary>
public sealed class StopTrialRunConsumer(StudyStops stops) : IConsumer<StopTrialRun>
{
    public Task Consume(ConsumeContext<StopTrialRun> context)
    {
        stops.StopRun(context.Message.RunId);
        return Task.CompletedTask;
    }
}

public sealed class StopStudyTrialsConsumer(StudyStops stops) : IConsumer<StopStudyTrials>
{
    public Task Consume(ConsumeContext<StopStudyTrials> context)
    {
        stops.Stop(context.Message.StudyId);
        return Task.CompletedTask;
    }
}

/// <summary>Runs a coordinate check and publishes its result for the Server to record.</summary>
public sealed class RunCoordinateCheckConsumer(IOptions<TrainerSettings> settings, IHostApplicationLifetime lifetime,
    ILogger<RunCoordinateCheckConsumer> log) : IConsumer<RunCoordinateCheck>
{
    public async Task Consume(ConsumeContext<RunCoordinateCheck> context)
    {
        var cmd = context.Message;
        log.LogInformation("Coordinate check {CheckId}: {Parameterization}, widths {Widths}", cmd.CheckId, cmd.Parameterization, cmd.Widths);
        object result;
        try
        {
            result = await Task.Factory.StartNew(() => CoordinateCheck.Run(cmd, settings.Value, lifetime.ApplicationStopping),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // A check that cannot run is recorded as failed, with the first line of why (never silently nothing).
            log.LogWarning(ex, "Coordinate check {CheckId} failed", cmd.CheckId);
            var first = ex.Message.Split('\n')[0];
            result = new CoordinateCheckFailed(cmd.StudyId, cmd.CheckId, $"{ex.GetType().Name}: {first[..Math.Min(first.Length, 1_000)]}",
                DateTimeOffset.UtcNow);
        }
        await context.Publish(result, result.GetType());
    }
}

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
    private readonly ConcurrentDictionary<Guid, (Guid StudyId, CancellationTokenSource Cancel)> running = new();

    public bool IsStopped(Guid studyId) => stopped.ContainsKey(studyId);

    /// <summary>Marks the study stopped and cancels every trial of it running here.</summary>
    public void Stop(Guid studyId)
    {
        stopped[studyId] = true;
        foreach (var (_, trial) in running)
            if (trial.StudyId == studyId) trial.Cancel.Cancel();
    }

    public CancellationTokenSource Begin(Guid studyId, Guid trialId, CancellationToken outer)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        running[trialId] = (studyId, cts);
        if (IsStopped(studyId)) cts.Cancel();
        return cts;
    }

    public void End(Guid trialId)
    {
        if (running.TryRemove(trialId, out var trial)) trial.Cancel.Dispose();
    }
}

/// <summary>Trains the trial a RunTrial command names and publishes what happens for the Server to record.</summary>
public sealed class RunTrialConsumer(StudyStops stops, IOptions<TrainerSettings> settings, IHostApplicationLifetime lifetime,
    ILogger<RunTrialConsumer> log) : IConsumer<RunTrial>
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

        if (settings.Value.Replay is null)
            log.LogInformation("Trial {TrialId}: width {Width}, lr {LearningRate}, seed {Seed}, {Steps} steps",
                cmd.TrialId, cmd.Width, cmd.LearningRate, cmd.Seed, cmd.Steps);
        var cts = stops.Begin(cmd.StudyId, cmd.TrialId, context.CancellationToken);
        // Reports are sent in order from the trial's thread; each carries its index so that the order survives a Server
        // that takes several at once.
        var index = 0;
        var reports = new ReportBuffer(report => context.Publish(report, report.GetType(), sent =>
        {
            sent.Headers.Set(ReportHeaders.Attempt, cmd.Attempt);
            sent.Headers.Set(ReportHeaders.Index, index++);
        }).GetAwaiter().GetResult());
        try
        {
            // Training is synchronous CPU work with thread-bound dispose scopes: give it a thread of its own.
            // On shutdown the trial is abandoned unreported: it stays running in the ledger and is sent again
            // (redelivered by RabbitMQ, or resumed by the Server's recovery with the in-memory transport).
            var trainer = settings.Value;
            void Report(object report) => reports.Report(report);
            var end = await Task.Factory.StartNew(
                () => trainer.Replay is { } recording
                    ? ReplayRunner.Run(cmd, Recordings.GetOrAdd(recording, TrialRecording.Load), trainer, Report, cts.Token,
                        trainer.ReplayReportsPerSecond, lifetime.ApplicationStopping)
                    : TrialRunner.Run(cmd, trainer, Report, cts.Token, lifetime.ApplicationStopping,
                        ex => log.LogWarning(ex, "Trial {TrialId} failed", cmd.TrialId)),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            if (settings.Value.Replay is null) log.LogInformation("Trial {TrialId} ended: {End}", cmd.TrialId, end.GetType().Name);
        }
        finally
        {
            // A trial abandoned on shutdown still delivers the checkpoints it gathered.
            try { reports.Flush(); } catch (Exception ex) when (ex is not OutOfMemoryException) { log.LogDebug(ex, "Could not send the last checkpoints"); }
            stops.End(cmd.TrialId);
        }
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

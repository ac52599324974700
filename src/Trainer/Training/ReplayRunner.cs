using System.Diagnostics;
using System.Text.Json;
using ScalingLedger.Contracts;

namespace ScalingLedger.Trainer.Training;

/// <summary>
/// Trials recorded from real training (loss curves and outcomes), to be replayed without training: the file that
/// <c>Trainer:Replay</c> names. See <c>benchmarks/recordings/README.md</c> for how one is made from a study.
/// </summary>
public sealed record TrialRecording(string Source, IReadOnlyList<RecordedTrial> Trials)
{
    public static TrialRecording Load(string path)
    {
        using var stream = File.OpenRead(path);
        var recording = JsonSerializer.Deserialize<TrialRecording>(stream, new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidDataException($"{path} holds no trial recording.");
        if (recording.Trials.Count == 0) throw new InvalidDataException($"{path} records no trial.");
        return recording;
    }
}

/// <summary>One recorded trial. <see cref="Checkpoints"/> rows are (step, train loss, eval loss, eval accuracy).</summary>
public sealed record RecordedTrial(
    int Width, double LearningRate, int Seed, string Status, IReadOnlyList<double[]> Checkpoints,
    double? FinalEvalLoss, double? FinalEvalAccuracy, long? ParameterCount, double? DurationSeconds, int? EndedAtStep, string? Reason);

/// <summary>
/// A simulated trainer: answers a RunTrial with the reports of the recorded trial nearest to it (same seed modulo the
/// recorded seeds, nearest width and rate on log scales), through the same callback and transport as real training,
/// at a chosen pace. It lets the ledger be measured at the scale users work at, on real curves, without the CPU that
/// training them takes.
/// </summary>
public static class ReplayRunner
{
    /// <summary>The status of a recorded trial whose trainer process died under it: replaying it kills the replaying trainer.</summary>
    public const string KilledTrainer = "KilledTrainer";

    /// <param name="reportsPerSecond">Pace of the reports; 0 sends them as fast as the transport takes them.</param>
    public static object Run(RunTrial cmd, TrialRecording recording, TrainerSettings settings, Action<object> report, CancellationToken cancel,
        double reportsPerSecond, CancellationToken shutdown = default)
    {
        var trial = Nearest(recording, cmd);
        var pace = reportsPerSecond > 0 ? TimeSpan.FromSeconds(1 / reportsPerSecond) : TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var next = TimeSpan.Zero;
        void Send(object r)
        {
            next += pace;
            if (clock.Elapsed < next) Thread.Sleep(next - clock.Elapsed);
            report(r);
        }

        Send(new TrialStarted(cmd.StudyId, cmd.TrialId, cmd.Attempt, settings.WorkerId + "/replay", Environment.MachineName, 0, "replay",
            DateTimeOffset.UtcNow, null, "replay of " + recording.Source));
        // A recorded trial that killed its trainer (out of memory, a native crash) kills this one too, once started.
        if (trial.Status == KilledTrainer)
            Environment.FailFast($"Replaying trial width {trial.Width}, lr {trial.LearningRate}, seed {trial.Seed}: it killed its trainer when recorded");
        foreach (var c in trial.Checkpoints)
        {
            shutdown.ThrowIfCancellationRequested();
            if (cancel.IsCancellationRequested) return End(new TrialCancelled(cmd.StudyId, cmd.TrialId, (int)c[0], DateTimeOffset.UtcNow));
            Send(new LossCheckpointRecorded(cmd.StudyId, cmd.TrialId, (int)c[0], c[1], c[2], c[3], DateTimeOffset.UtcNow));
        }
        return End(trial.Status switch
        {
            "Completed" when trial.FinalEvalLoss is { } loss => new TrialCompleted(cmd.StudyId, cmd.TrialId, loss, trial.FinalEvalAccuracy ?? 0,
                trial.ParameterCount ?? 0, trial.DurationSeconds ?? clock.Elapsed.TotalSeconds, DateTimeOffset.UtcNow),
            "Diverged" => new TrialDiverged(cmd.StudyId, cmd.TrialId, trial.EndedAtStep ?? cmd.Steps, trial.Reason ?? "diverged (replayed)",
                DateTimeOffset.UtcNow),
            _ => new TrialFailed(cmd.StudyId, cmd.TrialId, trial.Reason ?? $"replayed a trial that ended {trial.Status}", DateTimeOffset.UtcNow, cmd.Attempt),
        });

        object End(object end)
        {
            Send(end);
            return end;
        }
    }

    /// <summary>The recorded trial nearest to the command: its seed modulo the recorded seeds, then nearest in ln width and ln rate.</summary>
    public static RecordedTrial Nearest(TrialRecording recording, RunTrial cmd)
    {
        var seeds = recording.Trials.Select(t => t.Seed).Distinct().Order().ToList();
        var seed = seeds[cmd.Seed % seeds.Count];
        return recording.Trials.Where(t => t.Seed == seed)
            .MinBy(t => Math.Abs(Math.Log(t.Width) - Math.Log(cmd.Width)) + Math.Abs(Math.Log(t.LearningRate) - Math.Log(cmd.LearningRate)))!;
    }
}

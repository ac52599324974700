using System.Text.Json;
using System.Text.Json.Nodes;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Benchmarks;

/// <summary>Makes a trial recording (what a replaying trainer sends) from a real study as <c>GET /api/studies/{id}</c> returns it.</summary>
internal static class Recording
{
    /// <summary>A recording's trials as the outcomes a sweep replay ends them with, and its parametrization (read from its source).</summary>
    public static (IReadOnlyList<ScalingLedger.Domain.Studies.SweepReplay.Outcome> Outcomes, string Parameterization) ForReplay(TrialRecording recording) =>
        (recording.Trials.Select(t => new ScalingLedger.Domain.Studies.SweepReplay.Outcome(t.Width, t.LearningRate, t.Seed, t.Status == "Diverged",
                t.Status == "Completed" ? t.FinalEvalLoss : null)).ToList(),
            recording.Source.Contains("muP", StringComparison.Ordinal) ? "mup" : "standard");

    public static int Make(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("Usage: record STUDY.json RECORDING.json");
            return 2;
        }
        var study = JsonNode.Parse(File.ReadAllText(args[0]))!;
        var trials = study["trials"]!.AsArray().Select(t => t!)
            .Where(t => t["status"]!.GetValue<string>() is "Completed" or "Diverged")
            .Select(t => new RecordedTrial(
                t["width"]!.GetValue<int>(), t["learningRate"]!.GetValue<double>(), t["seed"]!.GetValue<int>(), t["status"]!.GetValue<string>(),
                t["checkpoints"]!.AsArray().Select(c => new[]
                {
                    c!["step"]!.GetValue<double>(), c["trainLoss"]!.GetValue<double>(), c["evalLoss"]!.GetValue<double>(),
                    c["evalAccuracy"]!.GetValue<double>(),
                }).ToList(),
                t["finalEvalLoss"]?.GetValue<double>(), t["finalEvalAccuracy"]?.GetValue<double>(), t["parameterCount"]?.GetValue<long>(),
                t["durationSeconds"]?.GetValue<double>(), t["endedAtStep"]?.GetValue<int>(), t["reason"]?.GetValue<string>()))
            .ToList();
        var spec = study["spec"]!;
        var source = $"study '{study["name"]}' ({study["id"]}), {trials.Count} trials: widths {spec["model"]!["widths"]!.ToJsonString()}, " +
            $"{spec["optimizer"]!["learningRates"]!.AsArray().Count} rates, seeds {spec["seeds"]!.ToJsonString()}, {spec["steps"]} steps, " +
            $"batch {spec["batchSize"]}, evalEvery {spec["evalEvery"]}, {spec["model"]!["hiddenLayers"]} hidden layers, " +
            "Fashion-MNIST, trained by ScalingLedger";
        File.WriteAllText(args[1], JsonSerializer.Serialize(new TrialRecording(source, trials), new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        Console.WriteLine($"{args[1]}: {trials.Count} trials from {source}");
        return 0;
    }
}

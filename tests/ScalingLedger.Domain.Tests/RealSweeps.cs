using System.Text.Json;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// Real sweeps trained by this ledger on Fashion-MNIST (<c>benchmarks/recordings/eval-*.json</c>, made from the studies of
/// <c>examples/eval-*.json</c>), replayed through the pure decisions as the Server would (<see cref="SweepReplay"/>).
/// </summary>
internal static class RealSweeps
{
    public static IReadOnlyList<SweepReplay.Outcome> Load(string name)
    {
        using var file = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Data", "recordings", name + ".json"));
        var root = JsonDocument.Parse(file).RootElement;
        return root.GetProperty("trials").EnumerateArray().Select(t => new SweepReplay.Outcome(
            t.GetProperty("width").GetInt32(), t.GetProperty("learningRate").GetDouble(), t.GetProperty("seed").GetInt32(),
            t.GetProperty("status").GetString() == "Diverged",
            t.GetProperty("finalEvalLoss").ValueKind == JsonValueKind.Number ? t.GetProperty("finalEvalLoss").GetDouble() : null)).ToList();
    }

    /// <summary>The recorded sweep replayed through the reactor's decisions, with <paramref name="options"/>.</summary>
    public static StudyView Replay(string name, FitOptions options, Func<Law, bool>? laws = null) =>
        SweepReplay.Run(Load(name), name, options, name.Contains("mup") ? "mup" : "standard", laws);
}

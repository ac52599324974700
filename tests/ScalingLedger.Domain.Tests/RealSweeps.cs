using System.Text.Json;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// Real sweeps trained by this ledger on Fashion-MNIST (<c>benchmarks/recordings/eval-*.json</c>, made from the studies of
/// <c>examples/eval-*.json</c>), replayed through the pure decisions as the Server would: trials end in the order they were
/// planned (ascending width), and the reactor decides after each.
/// </summary>
internal static class RealSweeps
{
    public sealed record Outcome(int Width, double LearningRate, int Seed, bool Diverged, double? Loss);

    public static IReadOnlyList<Outcome> Load(string name)
    {
        using var file = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Data", "recordings", name + ".json"));
        var root = JsonDocument.Parse(file).RootElement;
        return root.GetProperty("trials").EnumerateArray().Select(t => new Outcome(
            t.GetProperty("width").GetInt32(), t.GetProperty("learningRate").GetDouble(), t.GetProperty("seed").GetInt32(),
            t.GetProperty("status").GetString() == "Diverged",
            t.GetProperty("finalEvalLoss").ValueKind == JsonValueKind.Number ? t.GetProperty("finalEvalLoss").GetDouble() : null)).ToList();
    }

    /// <summary>A study planned as the recording's grid, with target widths at twice and four times its widest.</summary>
    public static StudyTestKit Plan(IReadOnlyList<Outcome> outcomes, string parameterization = "standard")
    {
        var widths = outcomes.Select(o => o.Width).Distinct().Order().ToList();
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, widths, parameterization, parameterization == "mup" ? widths[0] : null),
            Optimizer = new OptimizerSpec("adam", outcomes.Select(o => o.LearningRate).Distinct().Order().ToList()),
            Seeds = outcomes.Select(o => o.Seed).Distinct().Order().ToList(),
            TargetWidths = [2 * widths[^1], 4 * widths[^1]],
        };
        return new StudyTestKit(spec);
    }

    /// <summary>The report ending a planned trial as the recording says it ended.</summary>
    public static object End(StudyTestKit kit, IReadOnlyList<Outcome> outcomes, PlannedTrial t)
    {
        var o = outcomes.Single(x => x.Width == t.Width && x.LearningRate == t.LearningRate && x.Seed == t.Seed);
        return o.Diverged || o.Loss is null ? kit.Diverged(t) : kit.Completed(t, o.Loss.Value);
    }

    /// <summary>
    /// Replays the whole sweep: after each trial ends, the reactor decides (resolves, refits, predicts) with
    /// <paramref name="options"/>, restricted to <paramref name="laws"/> when given. Returns the kit with every event applied.
    /// </summary>
    public static StudyTestKit Replay(string name, FitOptions options, Func<Law, bool>? laws = null, string parameterization = "standard")
    {
        var outcomes = Load(name);
        var kit = Plan(outcomes, parameterization);
        var ids = 0;
        Guid NewId() => new(Interlocked.Increment(ref ids), 7, 7, new byte[8]);
        foreach (var t in kit.Defined.Trials.OrderBy(t => t.Order))
        {
            kit.Given(End(kit, outcomes, t));
            var state = TestLaws.EvidenceOf(kit.View);
            kit.Given([.. EvidenceDecider.Decide(state, NewId, StudyTestKit.Now, options, laws)]);
        }
        return kit;
    }
}

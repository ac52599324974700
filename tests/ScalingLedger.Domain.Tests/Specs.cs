using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Tests;

internal static class Specs
{
    public static StudySpec Demo() => new(
        "quick-demo", "researcher-a", "fashion-mnist",
        new ModelSpec("mlp", 3, [512, 32, 128], "standard"),
        new OptimizerSpec("adam", [0.01, 0.001]),
        [1, 0], 1500, 128, 250, [2048]);
}

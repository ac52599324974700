using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// A synthetic sweep shaped like Metz's: the final loss is a bowl in ln(lr) around lr*(h) = e^C h^D (the best rate
/// shrinks with width) on top of a frontier E + A h^-Alpha, times a bounded per-trial noise; rates more than
/// e^<c>divergeAbove</c> above lr*(h) diverge.
/// </summary>
internal static class MetzLike
{
    public const double E = 0.25, A = 2.0, Alpha = 0.35, D = -0.5, Curvature = 0.05;
    public static readonly double C = Math.Log(0.1);

    public static readonly int[] Widths = Enumerable.Range(0, 12).Select(i => 16 << i).ToArray();

    /// <summary>12 rates from 1e-5 to 1e-1, 0.36 decade (0.84 in ln) apart.</summary>
    public static readonly double[] Rates = Enumerable.Range(0, 12).Select(i => Math.Pow(10, -5 + i * 4.0 / 11)).ToArray();

    public static double BestRate(double width) => Math.Exp(C + D * Math.Log(width));

    public static double Frontier(double width) => E + A * Math.Pow(width, -Alpha);

    public static StudyTestKit Study(
        IReadOnlyList<int>? widths = null, IReadOnlyList<double>? rates = null, IReadOnlyList<int>? seeds = null,
        double noise = 0.01, double divergeAbove = 2.0, IReadOnlyList<int>? targetWidths = null)
    {
        var spec = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, widths ?? Widths, "standard"),
            Optimizer = new OptimizerSpec("adam", rates ?? Rates),
            Seeds = seeds ?? [0, 1, 2],
            TargetWidths = targetWidths ?? [65536],
        };
        var kit = new StudyTestKit(spec);
        return kit.FinishAll(t =>
        {
            var distance = Math.Log(t.LearningRate) - Math.Log(BestRate(t.Width));
            if (distance > divergeAbove) return null;
            // Deterministic noise in [-noise, noise], fixed by the cell and seed.
            var u = 2 * new Random(t.Width * 7919 + (int)Math.Round(1000 * Math.Log(t.LearningRate)) * 31 + t.Seed).NextDouble() - 1;
            return (Frontier(t.Width) + Curvature * distance * distance) * (1 + noise * u);
        });
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Trainer.Tests;

public class CoordinateCheckTests
{
    private static CoordinateCheckRecorded Check(string parameterization) => CoordinateCheck.Run(
        new RunCoordinateCheck(Guid.NewGuid(), Guid.NewGuid(), "fashion-mnist", 2, [64, 256, 1024], parameterization,
            parameterization == "mup" ? 64 : null, LearningRate: 0.01, Seed: 0, Steps: 4, BatchSize: 64),
        new TrainerSettings { ThreadsPerTrial = 2 }, CancellationToken.None);

    /// <summary>Mean |logit| after the last step at the widest width, over the same at the narrowest.</summary>
    private static double OutputGrowth(CoordinateCheckRecorded check)
    {
        double Last(CoordinateCheckWidth w) => w.MeanAbsActivation[^1][^1];
        return Last(check.Widths[^1]) / Last(check.Widths[0]);
    }

    [Fact]
    public void under_standard_parametrization_the_readout_grows_with_width_and_under_mup_it_stays_flat()
    {
        var standard = Check("standard");
        var mup = Check("mup");

        standard.Layers.ShouldBe(["hidden0", "hidden1", "output"]);
        standard.Widths.Select(w => w.Width).ShouldBe([64, 256, 1024]);
        standard.Widths.ShouldAllBe(w => w.MeanAbsActivation.Count == 5); // before the first step and after each of 4

        // Adam moves every readout weight by about the learning rate, so under the standard parametrization the
        // logits grow roughly with width (16x wider here); muP scales the readout's learning rate and initialisation
        // by width and keeps them of the same order.
        var grows = OutputGrowth(standard);
        var flat = OutputGrowth(mup);
        grows.ShouldBeGreaterThan(3.0, $"standard: {Describe(standard)}");
        flat.ShouldBeInRange(0.5, 2.0, $"mup: {Describe(mup)}");
    }

    private static string Describe(CoordinateCheckRecorded c) => string.Join("; ",
        c.Widths.Select(w => $"{w.Width}: " + string.Join(",", w.MeanAbsActivation[^1].Select(v => v.ToString("G3")))));
}

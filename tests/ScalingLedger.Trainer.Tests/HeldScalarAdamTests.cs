using ScalingLedger.Trainer.Model;
using ScalingLedger.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ScalingLedger.Trainer.Tests;

/// <summary>Our Adam must be TorchSharp's Adam, number for number, minus the GC race.</summary>
public class HeldScalarAdamTests
{
    [Theory]
    [InlineData("standard", 48, 1e-3)]
    [InlineData("mup", 96, 3e-3)] // two parameter groups with different rates
    public void gives_the_same_parameters_bit_for_bit_as_torchsharps_adam(string parameterization, int width, double lr)
    {
        var data = TrainingData.Load("fashion-mnist", null);
        var shape = new MlpShape(784, width, 2, 10, parameterization, BaseWidth: 32);
        using var g1 = new Generator(11);
        using var g2 = new Generator(11);
        using var ours = new Mlp(shape, g1);
        using var theirs = new Mlp(shape, g2);
        using var adam = TrialRunner.CreateAdam(ours, lr);
        using var reference = optim.Adam(
            theirs.LearningRateGroups(lr)
                .Select(g => new TorchSharp.Modules.Adam.ParamGroup(g.Parameters, lr: g.LearningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8)),
            lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8);
        var orderA = new BatchOrder(data.TrainCount, 32, 5);
        var orderB = new BatchOrder(data.TrainCount, 32, 5);
        for (var step = 0; step < 25; step++)
        {
            var lossOurs = TrialRunner.Step(ours, adam, data, orderA.Next());
            double lossTheirs;
            using (NewDisposeScope())
            {
                theirs.train();
                var idx = tensor(orderB.Next(), [32]);
                reference.zero_grad();
                var loss = nn.functional.cross_entropy(theirs.forward(data.TrainX.index_select(0, idx)), data.TrainY.index_select(0, idx));
                loss.backward();
                reference.step();
                lossTheirs = loss.item<float>();
            }
            lossOurs.ShouldBe(lossTheirs, $"step {step}");
        }
        var a = ours.parameters().ToList();
        var b = theirs.parameters().ToList();
        a.Count.ShouldBe(b.Count);
        for (var i = 0; i < a.Count; i++)
            a[i].eq(b[i]).all().item<bool>().ShouldBeTrue($"parameter {i} differs after 25 steps");
        // And the run moved the parameters at all (a test that compares two untouched models would pass trivially).
        using var g3 = new Generator(11);
        using var fresh = new Mlp(shape, g3);
        a[0].eq(fresh.parameters().First()).all().item<bool>().ShouldBeFalse();
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Trainer.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ScalingLedger.Trainer.Training;

/// <summary>
/// The coordinate check of Yang et al. 2022: train each width for a few steps and record the mean |output| of every
/// layer on a fixed batch, before the first update and after each step. Under muP the curves stay put as width grows;
/// under the standard parametrization with Adam the readout's grow with width. A width whose activations overflow
/// (too high a learning rate) has fewer steps recorded: the last finite ones.
/// </summary>
public static class CoordinateCheck
{
    public static CoordinateCheckRecorded Run(RunCoordinateCheck cmd, TrainerSettings settings, CancellationToken cancel)
    {
        var data = TrainingData.Load(cmd.Dataset, settings.DatasetDirectory);
        var probe = new BatchOrder(data.TestCount, cmd.BatchSize, cmd.Seed + 1).Next();
        using var probeIndex = tensor(probe, [probe.Length]);
        using var probeX = data.TestX.index_select(0, probeIndex);
        var results = new List<CoordinateCheckWidth>();
        IReadOnlyList<string> layers = [];
        foreach (var width in cmd.Widths.Order())
        {
            cancel.ThrowIfCancellationRequested();
            var trial = new RunTrial(cmd.StudyId, Guid.Empty, 1, cmd.Dataset, cmd.HiddenLayers, width, cmd.Parameterization,
                cmd.BaseWidth, cmd.LearningRate, cmd.Seed, cmd.Steps, cmd.BatchSize, cmd.Steps);
            using var generator = new Generator((ulong)cmd.Seed);
            using var model = new Mlp(TrialRunner.ShapeOf(trial), generator);
            using var optimizer = TrialRunner.CreateAdam(model, cmd.LearningRate);
            layers = model.LayerNames;
            var order = new BatchOrder(data.TrainCount, cmd.BatchSize, cmd.Seed);
            var perStep = new List<IReadOnlyList<double>> { Measure(model, probeX) };
            for (var step = 1; step <= cmd.Steps && perStep[^1].All(double.IsFinite); step++)
            {
                TrialRunner.Step(model, optimizer, data, order.Next());
                perStep.Add(Measure(model, probeX));
            }
            // A width whose activations overflowed stops there; non-finite values cannot be recorded (JSON has none).
            if (!perStep[^1].All(double.IsFinite)) perStep.RemoveAt(perStep.Count - 1);
            results.Add(new CoordinateCheckWidth(width, perStep));
        }
        return new CoordinateCheckRecorded(cmd.StudyId, cmd.CheckId, cmd.Parameterization, cmd.BaseWidth, cmd.LearningRate,
            cmd.Steps, layers, results, DateTimeOffset.UtcNow);
    }

    private static double[] Measure(Mlp model, Tensor x)
    {
        using var scope = NewDisposeScope();
        model.eval();
        using var _ = no_grad();
        return model.ForwardWithActivations(x).MeanAbs;
    }
}

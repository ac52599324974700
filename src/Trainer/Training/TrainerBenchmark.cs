using System.Diagnostics;
using System.Text.Json;
using ScalingLedger.Contracts;
using ScalingLedger.Trainer.Data;
using ScalingLedger.Trainer.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ScalingLedger.Trainer.Training;

/// <summary>
/// The trainer's performance, measured in one process on this machine: the matrix-multiply peak, per-width step
/// time and achieved GFLOP/s, and the cost of the ledger's reporting relative to a bare TorchSharp loop.
/// Run: <c>dotnet run -c Release --project src/Trainer -- benchmark</c>.
/// </summary>
public static class TrainerBenchmark
{
    /// <remarks>
    /// The machines are shared and noisy: every figure is the fastest of several short windows or repeats (interference
    /// only ever slows a run down), and the runs compared for the reporting overhead alternate.
    /// </remarks>
    public sealed record Options(IReadOnlyList<int> Widths, int HiddenLayers = 3, int BatchSize = 128, int Windows = 12,
        double SecondsPerWindow = 0.25, int OverheadWidth = 256, int OverheadSteps = 1000, int OverheadEvalEvery = 250, int Repeats = 11);

    public static int Run(Options options, TextWriter output)
    {
        output.WriteLine($"ScalingLedger trainer benchmark: {Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}, " +
            $"TorchSharp {Provenance.TorchSharpVersion}, libtorch {Provenance.LibTorchVersion}");
        var data = TrainingData.Load("fashion-mnist", null);

        var peak = MatmulPeak(output);
        output.WriteLine();
        output.WriteLine($"MLP {options.HiddenLayers} hidden layers, batch {options.BatchSize}, Adam; FLOPs per step = 6 x batch x weights");
        output.WriteLine($"{"width",6} {"weights",12} {"step ms",9} {"GFLOP/s",9} {"of peak",8}");
        foreach (var width in options.Widths)
        {
            var shape = new MlpShape(FashionMnist.Pixels, width, options.HiddenLayers, FashionMnist.Classes);
            using var g = new Generator(0);
            using var model = new Mlp(shape, g);
            using var adam = TrialRunner.CreateAdam(model, 1e-3);
            var order = new BatchOrder(data.TrainCount, options.BatchSize, 0);
            for (var i = 0; i < 3; i++) TrialRunner.Step(model, adam, data, order.Next());
            var seconds = double.MaxValue;
            for (var window = 0; window < options.Windows; window++)
            {
                var clock = Stopwatch.StartNew();
                var steps = 0;
                while (clock.Elapsed.TotalSeconds < options.SecondsPerWindow || steps < 3)
                {
                    TrialRunner.Step(model, adam, data, order.Next());
                    steps++;
                }
                seconds = Math.Min(seconds, clock.Elapsed.TotalSeconds / steps);
            }
            var weights = (long)FashionMnist.Pixels * width + (long)(options.HiddenLayers - 1) * width * width + (long)width * FashionMnist.Classes;
            var gflops = 6.0 * options.BatchSize * weights / seconds / 1e9;
            output.WriteLine($"{width,6} {weights,12:N0} {seconds * 1000,9:F2} {gflops,9:F1} {gflops / peak,8:P0}");
        }

        output.WriteLine();
        ReportingOverhead(options, data, output);
        return 0;
    }

    /// <summary>The best single-precision matmul rate over a few square sizes (2 n^3 FLOPs each).</summary>
    private static double MatmulPeak(TextWriter output)
    {
        var best = 0.0;
        foreach (var n in new[] { 512, 1024, 2048 })
        {
            using var a = randn(n, n);
            using var b = randn(n, n);
            for (var i = 0; i < 2; i++) mm(a, b).Dispose();
            var fastest = double.MaxValue;
            for (var window = 0; window < 10; window++)
            {
                var reps = 0;
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed.TotalSeconds < 0.2 || reps < 2)
                {
                    mm(a, b).Dispose();
                    reps++;
                }
                fastest = Math.Min(fastest, clock.Elapsed.TotalSeconds / reps);
            }
            var gflops = 2.0 * n * n * n / fastest / 1e9;
            output.WriteLine($"matmul {n}x{n}: {gflops:F1} GFLOP/s");
            best = Math.Max(best, gflops);
        }
        output.WriteLine($"matmul peak (best of the above, fastest of 10 windows each): {best:F1} GFLOP/s");
        return best;
    }

    /// <summary>
    /// A whole trial through <see cref="TrialRunner"/> (per-step loss read and divergence check, checkpoint
    /// evaluations, every report serialised to JSON as a transport would) against bare loops over the same batches:
    /// with the same evaluations (so the difference is the reporting alone) and with no evaluation at all.
    /// Alternated and repeated; the best time of each is compared.
    /// </summary>
    private static void ReportingOverhead(Options options, TrainingData data, TextWriter output)
    {
        var cmd = new RunTrial(Guid.NewGuid(), Guid.NewGuid(), 1, "fashion-mnist", options.HiddenLayers, options.OverheadWidth, "standard",
            null, 1e-3, 0, options.OverheadSteps, options.BatchSize, options.OverheadEvalEvery);
        var settings = new TrainerSettings();
        double full = double.MaxValue, bareWithEval = double.MaxValue, bare = double.MaxValue, bareWithRead = double.MaxValue;
        var reports = 0;
        for (var r = 0; r < options.Repeats; r++)
        {
            // Rotate the order, so that a slow spell of the machine does not always fall on the same variant.
            foreach (var variant in Enumerable.Range(0, 4).Select(i => (i + r) % 4))
            {
                if (variant == 0)
                {
                    var clock = Stopwatch.StartNew();
                    var end = TrialRunner.Run(cmd, settings, e => { JsonSerializer.Serialize(e, e.GetType()); reports++; }, CancellationToken.None);
                    full = Math.Min(full, clock.Elapsed.TotalSeconds);
                    if (end is not TrialCompleted) throw new InvalidOperationException($"The benchmark trial ended as {end.GetType().Name}.");
                }
                else if (variant == 1) bareWithEval = Math.Min(bareWithEval, BareLoop(cmd, data, settings, evaluate: true));
                else if (variant == 2) bare = Math.Min(bare, BareLoop(cmd, data, settings, evaluate: false));
                else bareWithRead = Math.Min(bareWithRead, BareLoop(cmd, data, settings, evaluate: true, readLoss: true));
            }
        }
        output.WriteLine($"Reporting overhead: width {cmd.Width}, {cmd.Steps} steps, checkpoint every {cmd.EvalEvery} " +
            $"({settings.CheckpointEvalImages} held-out images) and a final eval on {data.TestCount}; best of {options.Repeats}");
        output.WriteLine($"  full trial with ledger reporting ({reports / options.Repeats} reports): {full:F2} s");
        output.WriteLine($"  bare loop, same evaluations:                        {bareWithEval:F2} s  -> reporting overhead {(full / bareWithEval - 1):P1}");
        output.WriteLine($"  bare loop, same evaluations, loss read every step:  {bareWithRead:F2} s  " +
            $"-> the per-step loss read costs {(bareWithRead / bareWithEval - 1):P1}");
        output.WriteLine($"  bare loop, no evaluation at all:                    {bare:F2} s  -> throughput ratio full/bare {bare / full:F3}");
    }

    private static double BareLoop(RunTrial cmd, TrainingData data, TrainerSettings settings, bool evaluate, bool readLoss = false)
    {
        var clock = Stopwatch.StartNew();
        using var g = new Generator((ulong)cmd.Seed);
        using var model = new Mlp(TrialRunner.ShapeOf(cmd), g);
        using var adam = TrialRunner.CreateAdam(model, cmd.LearningRate);
        var order = new BatchOrder(data.TrainCount, cmd.BatchSize, cmd.Seed);
        using var evalX = data.TestX.narrow(0, 0, settings.CheckpointEvalImages);
        using var evalY = data.TestY.narrow(0, 0, settings.CheckpointEvalImages);
        for (var step = 1; step <= cmd.Steps; step++)
        {
            using (NewDisposeScope())
            {
                model.train();
                var idx = tensor(order.Next(), [cmd.BatchSize]);
                adam.ZeroGrad();
                var loss = nn.functional.cross_entropy(model.forward(data.TrainX.index_select(0, idx)), data.TrainY.index_select(0, idx));
                loss.backward();
                adam.Step();
                if (readLoss) loss.item<float>();
            }
            if (evaluate && (step % cmd.EvalEvery == 0 || step == cmd.Steps)) TrialRunner.Evaluate(model, evalX, evalY);
        }
        if (evaluate) TrialRunner.Evaluate(model, data.TestX, data.TestY);
        return clock.Elapsed.TotalSeconds;
    }
}

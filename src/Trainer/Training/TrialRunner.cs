using System.Diagnostics;
using ScalingLedger.Contracts;
using ScalingLedger.Trainer.Data;
using ScalingLedger.Trainer.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ScalingLedger.Trainer.Training;

public sealed record TrainerSettings
{
    /// <summary>Where the Fashion-MNIST IDX files are (the Debian package's directory by default).</summary>
    public string DatasetDirectory { get; init; } = FashionMnist.DefaultDirectory;
    /// <summary>Intra-op threads per trial; 0 leaves TorchSharp's default.</summary>
    public int ThreadsPerTrial { get; init; }
    /// <summary>Held-out test images used at every checkpoint (the first N of the test set).</summary>
    public int CheckpointEvalImages { get; init; } = 2_000;
    /// <summary>A loss above this multiple of the first step's loss ends the trial as diverged.</summary>
    public double DivergenceFactor { get; init; } = 10.0;
    public string WorkerId { get; init; } = $"{Environment.MachineName}/{Environment.ProcessId}";
    /// <summary>
    /// A trial recording (see <see cref="TrialRecording"/>): when set, this trainer does not train but replays the recorded
    /// trial nearest to each command (a simulated trainer, for measuring the ledger at scale).
    /// </summary>
    public string? Replay { get; init; }
    /// <summary>The pace of a replaying trainer's reports; 0: as fast as the transport takes them.</summary>
    public double ReplayReportsPerSecond { get; init; }
    /// <summary>How often a running trial tells the Server it is alive (well inside the Server's <c>Ledger:TrialLeaseSeconds</c>).</summary>
    public double HeartbeatSeconds { get; init; } = 10;
    /// <summary>
    /// Over a broker: how long a trial waits after reporting its start, so that its command's acknowledgement reaches the broker
    /// before the trial can take the process down (see RunTrialConsumer). 0 for simulated trainers that never crash.
    /// </summary>
    public int AcknowledgementGraceMilliseconds { get; init; } = 500;
}

/// <summary>Runs one trial on Fashion-MNIST and reports what happens through a callback.</summary>
public static class TrialRunner
{
    /// <summary>
    /// Trains the trial's MLP, deterministically: initialisation from a generator seeded with the trial's seed, batches
    /// from a seeded shuffle. Reports TrialStarted (with provenance), a LossCheckpointRecorded every <c>EvalEvery</c> steps and one
    /// ending event: TrialCompleted, TrialDiverged, TrialCancelled or TrialFailed. Returns the ending event.
    /// </summary>
    /// <param name="cancel">The study was cancelled: the trial ends as TrialCancelled.</param>
    /// <param name="shutdown">The trainer is stopping: the trial is abandoned without an ending event (it stays
    /// running in the ledger and is run again) and <see cref="OperationCanceledException"/> is thrown.</param>
    /// <param name="onError">Told the whole exception when a trial fails (the event carries its first line).</param>
    public static object Run(RunTrial cmd, TrainerSettings settings, Action<object> report, CancellationToken cancel,
        CancellationToken shutdown = default, Action<Exception>? onError = null)
    {
        object end;
        var clock = Stopwatch.StartNew();
        try
        {
            if (settings.ThreadsPerTrial > 0) torch.set_num_threads(settings.ThreadsPerTrial);
            end = Train(cmd, settings, report, cancel, shutdown, clock);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Whatever breaks (the native library, the data set, the model), the trial ends this attempt as failed with
            // the whole exception, instead of staying scheduled forever; the Server decides whether to run it again.
            onError?.Invoke(ex);
            end = new TrialFailed(cmd.StudyId, cmd.TrialId, Describe(ex), DateTimeOffset.UtcNow, cmd.Attempt, Detail(ex));
        }
        report(end);
        return end;
    }

    /// <summary>The most of an exception's text a failure carries (a native stack is a few KB).</summary>
    public const int MaxDetailChars = 32_000;

    private static string Describe(Exception ex)
    {
        var inner = ex;
        while (inner is TypeInitializationException { InnerException: { } i }) inner = i;
        var message = inner.Message.Split('\n', 2)[0].Trim();
        return $"{inner.GetType().Name}: {message}";
    }

    /// <summary>The whole exception: type, message (libtorch's includes its native stack), managed stack, inner exceptions.</summary>
    private static string Detail(Exception ex)
    {
        var text = ex.ToString();
        return text.Length <= MaxDetailChars ? text : text[..MaxDetailChars] + $"\n[... {text.Length - MaxDetailChars} more characters cut]";
    }

    private static object Train(RunTrial cmd, TrainerSettings settings, Action<object> report, CancellationToken cancel,
        CancellationToken shutdown, Stopwatch clock)
    {
        var data = TrainingData.Load(cmd.Dataset, settings.DatasetDirectory);
        report(new TrialStarted(cmd.StudyId, cmd.TrialId, cmd.Attempt, settings.WorkerId, Environment.MachineName,
            torch.get_num_threads(), Provenance.TorchSharpVersion, DateTimeOffset.UtcNow,
            Provenance.LibTorchVersion, Provenance.CodeVersion, data.FileSha256));

        using var generator = new Generator((ulong)cmd.Seed);
        using var model = new Mlp(ShapeOf(cmd), generator);
        using var optimizer = CreateAdam(model, cmd.LearningRate);
        var order = new BatchOrder(data.TrainCount, cmd.BatchSize, cmd.Seed);
        var heldOut = Math.Min(settings.CheckpointEvalImages, data.TestCount);
        using var evalX = data.TestX.narrow(0, 0, heldOut);
        using var evalY = data.TestY.narrow(0, 0, heldOut);

        double trainSum = 0, initialLoss = double.NaN;
        var trainCount = 0;
        for (var step = 1; step <= cmd.Steps; step++)
        {
            shutdown.ThrowIfCancellationRequested();
            if (cancel.IsCancellationRequested)
                return new TrialCancelled(cmd.StudyId, cmd.TrialId, step - 1, DateTimeOffset.UtcNow);

            var loss = Step(model, optimizer, data, order.Next());
            if (step == 1) initialLoss = loss;
            if (!double.IsFinite(loss))
                return new TrialDiverged(cmd.StudyId, cmd.TrialId, step, $"train loss is {loss}", DateTimeOffset.UtcNow);
            if (loss > settings.DivergenceFactor * initialLoss)
                return new TrialDiverged(cmd.StudyId, cmd.TrialId, step,
                    $"train loss {loss:G4} exceeds {settings.DivergenceFactor}x the initial loss {initialLoss:G4}", DateTimeOffset.UtcNow);
            trainSum += loss;
            trainCount++;

            if (step % cmd.EvalEvery == 0 || step == cmd.Steps)
            {
                var (evalLoss, evalAcc) = Evaluate(model, evalX, evalY);
                if (!double.IsFinite(evalLoss))
                    return new TrialDiverged(cmd.StudyId, cmd.TrialId, step, $"eval loss is {evalLoss}", DateTimeOffset.UtcNow);
                report(new LossCheckpointRecorded(cmd.StudyId, cmd.TrialId, step, trainSum / trainCount, evalLoss, evalAcc, DateTimeOffset.UtcNow));
                trainSum = 0;
                trainCount = 0;
            }
        }

        var (finalLoss, finalAcc) = Evaluate(model, data.TestX, data.TestY);
        if (!double.IsFinite(finalLoss))
            return new TrialDiverged(cmd.StudyId, cmd.TrialId, cmd.Steps, $"final eval loss is {finalLoss}", DateTimeOffset.UtcNow);
        return new TrialCompleted(cmd.StudyId, cmd.TrialId, finalLoss, finalAcc, model.ParameterCount(),
            clock.Elapsed.TotalSeconds, DateTimeOffset.UtcNow);
    }

    public static MlpShape ShapeOf(RunTrial cmd) =>
        new(FashionMnist.Pixels, cmd.Width, cmd.HiddenLayers, FashionMnist.Classes, cmd.Parameterization, cmd.BaseWidth ?? cmd.Width);

    /// <summary>
    /// Adam with one parameter group per learning rate the parametrization prescribes, with PyTorch's defaults
    /// (betas 0.9 and 0.999, eps 1e-8; TorchSharp's own default beta2 is 0.99). Our own step, not TorchSharp's, whose
    /// implicit scalars can be freed by the GC mid-call (see <see cref="HeldScalarAdam"/>).
    /// </summary>
    public static HeldScalarAdam CreateAdam(Mlp model, double eta) =>
        new(model.LearningRateGroups(eta), beta1: 0.9, beta2: 0.999, eps: 1e-8);

    /// <summary>One optimisation step on the given mini-batch; returns the batch's loss.</summary>
    public static double Step(Mlp model, HeldScalarAdam optimizer, TrainingData data, long[] batch)
    {
        using var scope = NewDisposeScope();
        model.train();
        var idx = tensor(batch, [batch.Length]);
        var x = data.TrainX.index_select(0, idx);
        var y = data.TrainY.index_select(0, idx);
        optimizer.ZeroGrad();
        var output = nn.functional.cross_entropy(model.forward(x), y);
        output.backward();
        optimizer.Step();
        return output.item<float>();
    }

    /// <summary>Mean cross-entropy and accuracy over all the given images, in chunks.</summary>
    public static (double Loss, double Accuracy) Evaluate(Mlp model, Tensor x, Tensor y, int chunk = 2_000)
    {
        model.eval();
        using var _ = no_grad();
        double lossSum = 0;
        long correct = 0;
        var n = x.shape[0];
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = NewDisposeScope();
            var len = Math.Min(chunk, n - start);
            var logits = model.forward(x.narrow(0, start, len));
            var labels = y.narrow(0, start, len);
            lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }
        return (lossSum / n, (double)correct / n);
    }
}

/// <summary>Mini-batch indices from a per-trial seeded shuffle, reshuffled each epoch.</summary>
public sealed class BatchOrder(int count, int batchSize, int seed)
{
    private readonly Random random = new(seed);
    private int[] permutation = [];
    private int position = int.MaxValue;

    public long[] Next()
    {
        var batch = new long[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            if (position >= permutation.Length)
            {
                permutation = Enumerable.Range(0, count).ToArray();
                random.Shuffle(permutation);
                position = 0;
            }
            batch[i] = permutation[position++];
        }
        return batch;
    }
}

using ScalingLedger.Contracts;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Trainer.Tests;

/// <summary>Real TorchSharp training on real Fashion-MNIST, kept tiny (narrow MLPs, tens of steps).</summary>
public class TrialRunnerTests
{
    private static readonly TrainerSettings Settings = new() { ThreadsPerTrial = 1, CheckpointEvalImages = 1_000 };

    private static RunTrial Trial(int width = 32, double lr = 1e-3, int steps = 60, int evalEvery = 20, int seed = 0) =>
        new(Guid.NewGuid(), Guid.NewGuid(), 1, "fashion-mnist", 2, width, "standard", null, lr, seed, steps, 64, evalEvery);

    private static (object End, List<object> Reports) Run(RunTrial cmd, CancellationToken cancel = default)
    {
        var reports = new List<object>();
        var end = TrialRunner.Run(cmd, Settings, reports.Add, cancel);
        return (end, reports);
    }

    [Fact]
    public void a_small_mlp_learns_fashion_mnist_the_eval_loss_falls()
    {
        var (end, reports) = Run(Trial());
        reports[0].ShouldBeOfType<TrialStarted>().Threads.ShouldBe(1);
        var checkpoints = reports.OfType<LossCheckpointRecorded>().ToList();
        checkpoints.Select(c => c.Step).ShouldBe([20, 40, 60]);
        checkpoints[^1].EvalLoss.ShouldBeLessThan(checkpoints[0].EvalLoss);
        checkpoints[^1].EvalAccuracy.ShouldBeGreaterThan(0.5);
        var completed = end.ShouldBeOfType<TrialCompleted>();
        reports[^1].ShouldBe(end);
        // Untrained, cross-entropy over 10 classes is about ln 10 = 2.30; 60 steps bring it well below.
        completed.FinalEvalLoss.ShouldBeLessThan(1.2);
        completed.ParameterCount.ShouldBe(784 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10);
    }

    [Fact]
    public void an_absurd_learning_rate_diverges_quickly()
    {
        var (end, reports) = Run(Trial(width: 64, lr: 1e4, steps: 500, evalEvery: 100));
        var diverged = end.ShouldBeOfType<TrialDiverged>();
        diverged.Step.ShouldBeLessThan(100);
        diverged.Reason.ShouldNotBeNullOrWhiteSpace();
        reports.OfType<LossCheckpointRecorded>().ShouldBeEmpty();
    }

    [Fact]
    public void a_cancelled_trial_stops_and_says_so()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var (end, _) = Run(Trial(), cts.Token);
        end.ShouldBeOfType<TrialCancelled>().AtStep.ShouldBe(0);
    }

    [Fact]
    public void an_unknown_dataset_ends_the_trial_as_failed_with_the_reason()
    {
        var (end, _) = Run(Trial() with { Dataset = "imagenet" });
        end.ShouldBeOfType<TrialFailed>().Error.ShouldContain("imagenet");
    }

    [Fact]
    public void batch_order_is_a_seeded_permutation_per_epoch()
    {
        var a = new BatchOrder(10, 5, seed: 7);
        var b = new BatchOrder(10, 5, seed: 7);
        var epochA = a.Next().Concat(a.Next()).ToArray();
        epochA.Order().ShouldBe(Enumerable.Range(0, 10).Select(i => (long)i));
        epochA.ShouldBe(b.Next().Concat(b.Next()));
        new BatchOrder(10, 5, seed: 8).Next().ShouldNotBe(epochA.Take(5));
    }

    [Fact]
    public void the_same_spec_and_seed_give_the_same_checkpoints_bit_for_bit()
    {
        var cmd = Trial(width: 48, steps: 40, evalEvery: 10, seed: 3);
        var (endA, a) = Run(cmd);
        var (endB, b) = Run(cmd with { TrialId = cmd.TrialId });
        var curveA = a.OfType<LossCheckpointRecorded>().Select(c => (c.Step, c.TrainLoss, c.EvalLoss, c.EvalAccuracy)).ToList();
        var curveB = b.OfType<LossCheckpointRecorded>().Select(c => (c.Step, c.TrainLoss, c.EvalLoss, c.EvalAccuracy)).ToList();
        curveA.Count.ShouldBe(4);
        curveB.ShouldBe(curveA);
        ((TrialCompleted)endB).FinalEvalLoss.ShouldBe(((TrialCompleted)endA).FinalEvalLoss);

        // Another seed is another run: the determinism is the seed's, not a constant.
        var (_, c) = Run(cmd with { Seed = 4 });
        c.OfType<LossCheckpointRecorded>().First().TrainLoss.ShouldNotBe(curveA[0].TrainLoss);
    }

    [Fact]
    public void trial_started_carries_provenance()
    {
        var (_, reports) = Run(Trial(steps: 2, evalEvery: 2));
        var started = reports.OfType<TrialStarted>().Single();
        started.LibTorchVersion.ShouldNotBeNullOrWhiteSpace();
        started.TorchSharpVersion.ShouldStartWith("0.107");
        started.CodeVersion.ShouldNotBeNullOrWhiteSpace();
        started.DatasetSha256!.Keys.ShouldContain("train-images-idx3-ubyte.gz");
        started.HostName.ShouldBe(Environment.MachineName);
    }

    [Fact]
    public void a_mup_model_trains_and_equals_the_standard_model_at_its_base_width()
    {
        var mup = Trial(width: 64, steps: 40, evalEvery: 20) with { Parameterization = "mup", BaseWidth = 64 };
        var (endMup, mupReports) = Run(mup);
        var (_, stdReports) = Run(mup with { Parameterization = "standard", BaseWidth = null });
        mupReports.OfType<LossCheckpointRecorded>().Select(c => c.EvalLoss)
            .ShouldBe(stdReports.OfType<LossCheckpointRecorded>().Select(c => c.EvalLoss));

        var (wide, _) = Run(mup with { Width = 256 });
        wide.ShouldBeOfType<TrialCompleted>().FinalEvalLoss.ShouldBeLessThan(1.2);
        endMup.ShouldBeOfType<TrialCompleted>();
    }

    [Fact]
    public void an_error_inside_libtorch_ends_the_attempt_as_failed_with_the_whole_exception()
    {
        // A negative width makes libtorch itself refuse to build the layer (an ExternalException), every time.
        var errors = new List<Exception>();
        var reports = new List<object>();
        var end = TrialRunner.Run(Trial(width: -3) with { Attempt = 2 }, Settings, reports.Add, CancellationToken.None, default, errors.Add);
        var error = errors.ShouldHaveSingleItem().ShouldBeOfType<System.Runtime.InteropServices.ExternalException>();
        var failed = end.ShouldBeOfType<TrialFailed>();
        failed.Error.ShouldStartWith("ExternalException");
        failed.Attempt.ShouldBe(2);
        // The whole exception: libtorch's own message (with its native frames) and the managed stack down to our runner.
        failed.Detail.ShouldNotBeNull();
        failed.Detail.ShouldContain(error.Message.Split('\n')[0].Trim());
        failed.Detail.ShouldContain(nameof(TrialRunner));
        failed.Detail.Length.ShouldBeGreaterThan(failed.Error.Length);
        reports.OfType<TrialFailed>().Count().ShouldBe(1);
    }

    [Fact]
    public void stopping_a_study_cancels_every_trial_of_it_running_here_and_only_those()
    {
        var stops = new ScalingLedger.Trainer.Worker.StudyStops();
        var study = Guid.NewGuid();
        var a = stops.Begin(study, Guid.NewGuid(), CancellationToken.None);
        var b = stops.Begin(study, Guid.NewGuid(), CancellationToken.None);
        var other = stops.Begin(Guid.NewGuid(), Guid.NewGuid(), CancellationToken.None);
        stops.Stop(study);
        a.IsCancellationRequested.ShouldBeTrue();
        b.IsCancellationRequested.ShouldBeTrue();
        other.IsCancellationRequested.ShouldBeFalse();
        stops.IsStopped(study).ShouldBeTrue();
        stops.Begin(study, Guid.NewGuid(), CancellationToken.None).IsCancellationRequested.ShouldBeTrue();
    }
}

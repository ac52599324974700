using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>A trial's N, D and C (TrialScale): the MLP's weights and biases, the examples it saw, 6 N D.</summary>
public class TrialScaleTests
{
    [Theory]
    [InlineData(2, 1_612)]
    [InlineData(32, 784 * 32 + 32 + 2 * (32 * 32 + 32) + 32 * 10 + 10)]
    [InlineData(1024, 2L * 1024 * 1024 + 797 * 1024 + 10)]
    public void an_mlp_of_three_hidden_layers_on_fashion_mnist_has_2h2_plus_797h_plus_10_parameters(int width, long expected) =>
        TrialScale.MlpParameters(784, 3, width, 10).ShouldBe(expected);

    [Fact]
    public void one_hidden_layer_has_no_square_term_and_a_model_without_layers_has_none() =>
        (TrialScale.MlpParameters(784, 1, 100, 10), TrialScale.MlpParameters(784, 0, 100, 10)).ShouldBe((784 * 100 + 100 + 100 * 10 + 10, 0));

    [Fact]
    public void a_trained_trial_sees_steps_times_batch_examples_and_costs_six_n_d()
    {
        var spec = Specs.Demo(); // 3 hidden layers, 1,500 steps of 128
        var scale = TrialScale.Of(spec, new TrialView { Width = 32, Status = TrialStatus.Completed })!;
        scale.Parameters.ShouldBe(TrialScale.MlpParameters(784, 3, 32, 10));
        scale.Examples.ShouldBe(1500 * 128);
        scale.Flops.ShouldBe(6.0 * scale.Parameters * 1500 * 128);
        // A planned trial is sized before it trains.
        TrialScale.Of(spec, new TrialView { Width = 32, Status = TrialStatus.Scheduled }).ShouldBe(scale);
    }

    [Fact]
    public void a_trial_that_diverged_or_was_cancelled_saw_the_examples_up_to_its_last_step()
    {
        var spec = Specs.Demo();
        TrialScale.Of(spec, new TrialView { Width = 32, Status = TrialStatus.Diverged, EndedAtStep = 40 })!.Examples.ShouldBe(40 * 128);
        TrialScale.Of(spec, new TrialView { Width = 32, Status = TrialStatus.Cancelled, EndedAtStep = 7 })!.Examples.ShouldBe(7 * 128);
        // A failed trial's step is not known: the plan's budget stands.
        TrialScale.Of(spec, new TrialView { Width = 32, Status = TrialStatus.Failed })!.Examples.ShouldBe(1500 * 128);
    }

    [Fact]
    public void an_imported_run_brings_its_own_n_and_d_and_one_without_them_has_no_scale()
    {
        var run = new TrialView { Params = 4e8, Tokens = 8e9, Status = TrialStatus.Completed };
        TrialScale.Of(null, run).ShouldBe(new TrialScale(4e8, 8e9));
        TrialScale.Of(null, run)!.Flops.ShouldBe(6 * 4e8 * 8e9);
        TrialScale.Of(null, new TrialView { Width = 64, Status = TrialStatus.Completed }).ShouldBeNull();
        TrialScale.Of(Specs.Demo() with { Dataset = "cifar-10" }, new TrialView { Width = 64 }).ShouldBeNull();
    }

    [Fact]
    public void every_dataset_a_spec_may_name_has_a_shape() =>
        SpecValidation.KnownDatasets.ShouldAllBe(d => TrialScale.Datasets.ContainsKey(d));
}

using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// A trial's size and compute, the axes of the literature's laws: parameters N, examples seen D and training FLOPs C.
/// <para>
/// N counts every weight and bias of the MLP: an input layer of <c>inputs x h + h</c>, each further hidden layer
/// <c>h x h + h</c>, the readout <c>h x outputs + outputs</c>; for Fashion-MNIST's 784 inputs, 10 classes and 3 hidden
/// layers, N = 2h^2 + 797h + 10 (width 2: 1,612, as the trainer counts its model). D is the examples the trial is planned to
/// see, steps x batch size, or those it saw before it diverged or was cancelled. C = 6 N D: a dense layer's forward pass
/// costs a multiply and an add per weight and example, its backward pass twice that (the gradients of its input and of its
/// weights), as in Kaplan et al. (2020); biases and ReLUs are counted as if weights (under 0.5% of N from width 32) and
/// Adam's update per step is left out (about 10 N a step, 1% of 6 N D at batch 128).
/// </para>
/// Imported runs carry their own N and D (the CSV's parameters and tokens); C = 6 N D for them too.
/// </summary>
public sealed record TrialScale(double Parameters, double Examples)
{
    /// <summary>The inputs and classes of each dataset a study may name (SpecValidation's known datasets).</summary>
    public static readonly IReadOnlyDictionary<string, (int Inputs, int Outputs)> Datasets =
        new Dictionary<string, (int, int)> { ["fashion-mnist"] = (784, 10) };

    /// <summary>Training FLOPs, forward and backward: 6 N D.</summary>
    public double Flops => 6 * Parameters * Examples;

    /// <summary>The weights and biases of an MLP of <paramref name="hiddenLayers"/> layers of <paramref name="width"/> units.</summary>
    public static long MlpParameters(int inputs, int hiddenLayers, int width, int outputs) =>
        hiddenLayers < 1 || width < 1 ? 0
            : (long)inputs * width + width + (hiddenLayers - 1) * ((long)width * width + width) + (long)width * outputs + outputs;

    /// <summary>
    /// A trial's scale in its study: from the spec for a trained study, from the run for an imported one; null where neither
    /// says (an imported run without parameters or tokens, a spec of a dataset the ledger does not know).
    /// </summary>
    public static TrialScale? Of(StudySpec? spec, TrialView trial)
    {
        if (trial.Params is { } n && trial.Tokens is { } d) return new TrialScale(n, d);
        if (spec?.Model is not { } model || trial.Width < 1 || spec.Dataset is null || !Datasets.TryGetValue(spec.Dataset, out var data)) return null;
        var steps = trial.Status is TrialStatus.Diverged or TrialStatus.Cancelled && trial.EndedAtStep is { } ended ? ended : spec.Steps;
        return new TrialScale(MlpParameters(data.Inputs, model.HiddenLayers, trial.Width, data.Outputs), (double)steps * spec.BatchSize);
    }
}

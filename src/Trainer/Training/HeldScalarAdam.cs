using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ScalingLedger.Trainer.Training;

/// <summary>
/// Adam (Kingma and Ba 2015) with PyTorch's semantics and the same arithmetic, operation for operation, as TorchSharp
/// 0.107's <c>optim.Adam</c> (no weight decay, no AMSGrad), so that it gives the same parameters bit for bit.
/// <para>
/// Why our own: TorchSharp's step turns doubles into implicit <see cref="Scalar"/>s (<c>mul_(beta1)</c>,
/// <c>add_(grad, alpha: 1 - beta1)</c>, ...) and passes their native handles to libtorch with nothing keeping the
/// managed object alive during the call. <see cref="Scalar"/> has a finalizer that frees its handle, so when another
/// thread of the process triggers a collection (the Server refitting laws), the handle can be freed while libtorch
/// still reads it: libtorch then throws "Expected false to be true, but got false" or "Unknown scalar type" (reproduced
/// by <c>GcStressTests</c>). Here every Scalar is created explicitly, held in a field or a local that is used after the
/// native calls, and disposed deterministically; no object the GC may finalize reaches libtorch unprotected. Beware
/// TorchSharp's convenience overloads: <c>add_(Scalar)</c> and <c>add_(Tensor)</c> pass an implicit alpha of 1, so only
/// the overloads that take every Scalar explicitly are used.
/// </para>
/// </summary>
public sealed class HeldScalarAdam : IDisposable
{
    private readonly List<Group> groups;
    private bool disposed;

    /// <param name="groups">Parameter groups, each with its learning rate.</param>
    public HeldScalarAdam(IEnumerable<(IReadOnlyList<Parameter> Parameters, double LearningRate)> groups,
        double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be non-negative.");
        this.groups = groups.Select(g => new Group(g.Parameters, g.LearningRate, beta1, beta2, eps)).ToList();
    }

    /// <summary>Sets every parameter's gradient to zero (as TorchSharp's optimizers do: in place, keeping the tensor).</summary>
    public void ZeroGrad()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        foreach (var group in groups)
            foreach (var state in group.States)
            {
                using var grad = state.Parameter.grad;
                grad?.zero_();
            }
    }

    /// <summary>One Adam update of every parameter that has a gradient.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var group in groups) group.Step();
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var group in groups) group.Dispose();
    }

    /// <summary>One parameter group: its constant scalars (held for the optimizer's life) and its parameters' state.</summary>
    private sealed class Group : IDisposable
    {
        private readonly double learningRate;
        private readonly double beta1;
        private readonly double beta2;
        private readonly Scalar beta1Scalar;
        private readonly Scalar oneMinusBeta1;
        private readonly Scalar beta2Scalar;
        private readonly Scalar oneMinusBeta2;
        private readonly Scalar epsScalar;
        /// <summary>The alpha of <c>add_(eps)</c>: TorchSharp's one-argument overload makes it an implicit (unheld) Scalar.</summary>
        private readonly Scalar one;
        private long step;

        public Group(IReadOnlyList<Parameter> parameters, double learningRate, double beta1, double beta2, double eps)
        {
            if (!(learningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be non-negative.");
            this.learningRate = learningRate;
            this.beta1 = beta1;
            this.beta2 = beta2;
            beta1Scalar = beta1.ToScalar();
            oneMinusBeta1 = (1 - beta1).ToScalar();
            beta2Scalar = beta2.ToScalar();
            oneMinusBeta2 = (1 - beta2).ToScalar();
            epsScalar = eps.ToScalar();
            one = 1.ToScalar();
            States = parameters.Select(p => new ParameterState(p)).ToList();
        }

        public List<ParameterState> States { get; }

        public void Step()
        {
            // All parameters of a group advance together, so one step count and one pair of per-step scalars serve them all
            // (TorchSharp counts per parameter; the counts are equal whenever every parameter has a gradient, as here).
            step++;
            var biasCorrection1 = 1 - Math.Pow(beta1, step);
            var biasCorrection2 = 1 - Math.Pow(beta2, step);
            using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            using var negativeStepSize = (-(learningRate / biasCorrection1)).ToScalar();
            foreach (var state in States)
            {
                var grad = state.Parameter.grad;
                if (grad is null) continue;
                state.ExpAvg.mul_(beta1Scalar).add_(grad, oneMinusBeta1);
                state.ExpAvgSq.mul_(beta2Scalar).addcmul_(grad, grad, oneMinusBeta2);
                var denominator = state.ExpAvgSq.sqrt().div_(sqrtBiasCorrection2).add_(epsScalar, one);
                state.Parameter.addcdiv_(state.ExpAvg, denominator, negativeStepSize);
            }
            // The per-step scalars are disposed here, after the last native call that reads them; the constant ones
            // live in fields of this group until the optimizer is disposed.
        }

        public void Dispose()
        {
            foreach (var state in States) state.Dispose();
            beta1Scalar.Dispose();
            oneMinusBeta1.Dispose();
            beta2Scalar.Dispose();
            oneMinusBeta2.Dispose();
            epsScalar.Dispose();
            one.Dispose();
        }
    }

    /// <summary>A parameter with its first and second moment estimates (zero at the start, as in PyTorch).</summary>
    private sealed class ParameterState : IDisposable
    {
        public ParameterState(Parameter parameter)
        {
            Parameter = parameter;
            ExpAvg = zeros_like(parameter).DetachFromDisposeScope();
            ExpAvgSq = zeros_like(parameter).DetachFromDisposeScope();
        }

        public Parameter Parameter { get; }
        public Tensor ExpAvg { get; }
        public Tensor ExpAvgSq { get; }

        public void Dispose()
        {
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
        }
    }
}

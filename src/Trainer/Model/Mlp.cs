using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ScalingLedger.Trainer.Model;

/// <summary>How the MLP is initialised and how Adam's learning rate is split over its layers.</summary>
/// <param name="Parameterization"><c>standard</c> (PyTorch defaults, one learning rate) or <c>mup</c>.</param>
/// <param name="BaseWidth">The width at which muP coincides with the standard parametrization.</param>
public sealed record MlpShape(int Inputs, int Width, int HiddenLayers, int Outputs, string Parameterization = "standard", int BaseWidth = 0)
{
    public bool IsMup => Parameterization == "mup";

    /// <summary>width / baseWidth: how much wider than the base model this one is (1 under the standard parametrization).</summary>
    public double WidthMultiplier => IsMup ? (double)Width / (BaseWidth > 0 ? BaseWidth : Width) : 1.0;
}

/// <summary>
/// A multilayer perceptron: <c>hiddenLayers</c> hidden layers of <c>width</c> units with ReLU, then a linear readout.
/// <para>
/// Initialisation draws from the trial's own generator, never the global one. Standard: PyTorch's nn.Linear default,
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases. muP (Yang et al. 2022, Tensor Programs V, Table 3, in
/// the base-width-relative form of microsoft/mup): the same for input and hidden layers, and the readout weights
/// scaled by 1/sqrt(m), m = width / baseWidth (variance 1/fan_in^2 up to the base constant). Adam's learning rate
/// is eta for the input layer and all biases, and eta / m for hidden and readout weights. At width == baseWidth
/// muP and standard are the same model.
/// </para>
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> layers;

    public Mlp(MlpShape shape, Generator generator) : base(nameof(Mlp))
    {
        Shape = shape;
        layers = new ModuleList<Linear>();
        var fanIn = shape.Inputs;
        for (var i = 0; i < shape.HiddenLayers; i++)
        {
            layers.Add(nn.Linear(fanIn, shape.Width));
            fanIn = shape.Width;
        }
        layers.Add(nn.Linear(fanIn, shape.Outputs));
        RegisterComponents();
        Initialise(generator);
    }

    public MlpShape Shape { get; }

    /// <summary>Layer names in order: hidden0..hiddenN-1, output.</summary>
    public IReadOnlyList<string> LayerNames =>
        Enumerable.Range(0, Shape.HiddenLayers).Select(i => $"hidden{i}").Append("output").ToList();

    public override Tensor forward(Tensor input)
    {
        var x = input;
        for (var i = 0; i < layers.Count - 1; i++) x = nn.functional.relu(layers[i].forward(x));
        return layers[^1].forward(x);
    }

    /// <summary>The forward pass, also returning the mean |output| of every layer (pre-activation) on this batch.</summary>
    public (Tensor Logits, double[] MeanAbs) ForwardWithActivations(Tensor input)
    {
        var means = new double[layers.Count];
        var x = input;
        for (var i = 0; i < layers.Count; i++)
        {
            var z = layers[i].forward(x);
            means[i] = z.abs().mean().item<float>();
            x = i < layers.Count - 1 ? nn.functional.relu(z) : z;
        }
        return (x, means);
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>Adam's parameter groups: one learning rate per group as the parametrization prescribes.</summary>
    public IReadOnlyList<(IReadOnlyList<Parameter> Parameters, double LearningRate)> LearningRateGroups(double eta)
    {
        var m = Shape.WidthMultiplier;
        var full = new List<Parameter>();
        var scaled = new List<Parameter>();
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            (i == 0 ? full : scaled).Add(layer.weight!);
            full.Add(layer.bias!);
        }
        return Shape.IsMup && m != 1.0
            ? [(full, eta), (scaled, eta / m)]
            : [(full.Concat(scaled).ToList(), eta)];
    }

    private void Initialise(Generator generator)
    {
        using var _ = no_grad();
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var bound = 1.0 / Math.Sqrt(layer.in_features);
            var weightBound = i == layers.Count - 1 && Shape.IsMup ? bound / Math.Sqrt(Shape.WidthMultiplier) : bound;
            Uniform(layer.weight!, weightBound, generator);
            Uniform(layer.bias!, bound, generator);
        }
    }

    /// <summary>
    /// Fills a parameter from U(-bound, bound) drawn from <paramref name="generator"/>. (TorchSharp 0.107's
    /// nn.init.uniform_ ignores its generator argument and draws from the global one; torch.rand honours it.)
    /// The scalars are explicit and the temporaries live in a dispose scope: an implicit Scalar or an unreferenced
    /// temporary tensor can be finalized by another thread's collection while libtorch still reads its handle
    /// (see <see cref="Training.HeldScalarAdam"/>).
    /// </summary>
    private static void Uniform(Tensor parameter, double bound, Generator generator)
    {
        using var scope = NewDisposeScope();
        using var width = (2 * bound).ToScalar();
        using var offset = bound.ToScalar();
        var draw = rand(parameter.shape, generator: generator);
        parameter.copy_(draw.mul(width).sub(offset));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) layers.Dispose();
        base.Dispose(disposing);
    }
}

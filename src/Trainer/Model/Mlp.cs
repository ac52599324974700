using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ScalingLedger.Trainer.Model;

/// <summary>A multilayer perceptron: <c>hiddenLayers</c> hidden layers of <c>width</c> units with ReLU.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public Mlp(int inputs, int width, int hiddenLayers, int outputs) : base(nameof(Mlp))
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        var fanIn = inputs;
        for (var i = 0; i < hiddenLayers; i++)
        {
            modules.Add(($"hidden{i}", nn.Linear(fanIn, width)));
            modules.Add(($"relu{i}", nn.ReLU()));
            fanIn = width;
        }
        modules.Add(("output", nn.Linear(fanIn, outputs)));
        layers = nn.Sequential(modules);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => layers.forward(input);

    public long ParameterCount() => parameters().Sum(p => p.numel());

    protected override void Dispose(bool disposing)
    {
        if (disposing) layers.Dispose();
        base.Dispose(disposing);
    }
}

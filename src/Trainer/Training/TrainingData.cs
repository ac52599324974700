using System.Collections.Concurrent;
using System.Reflection;
using ScalingLedger.Trainer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace ScalingLedger.Trainer.Training;

/// <summary>A data set as tensors, made once per process and directory and shared (read-only) by all trials.</summary>
public sealed class TrainingData
{
    private static readonly ConcurrentDictionary<string, Lazy<TrainingData>> Cache = new();

    private TrainingData(FashionMnist data)
    {
        TrainX = tensor(data.TrainImages, [data.TrainCount, FashionMnist.Pixels]);
        TrainY = tensor(data.TrainLabels, [data.TrainCount]);
        TestX = tensor(data.TestImages, [data.TestCount, FashionMnist.Pixels]);
        TestY = tensor(data.TestLabels, [data.TestCount]);
        TrainCount = data.TrainCount;
        TestCount = data.TestCount;
        FileSha256 = data.FileSha256;
    }

    public Tensor TrainX { get; }
    public Tensor TrainY { get; }
    public Tensor TestX { get; }
    public Tensor TestY { get; }
    public int TrainCount { get; }
    public int TestCount { get; }
    public IReadOnlyDictionary<string, string> FileSha256 { get; }

    public static TrainingData Load(string dataset, string? directory)
    {
        if (dataset != "fashion-mnist") throw new NotSupportedException($"Unknown dataset '{dataset}'; this trainer knows fashion-mnist.");
        var dir = Path.GetFullPath(directory ?? FashionMnist.DefaultDirectory);
        return Cache.GetOrAdd(dir, d => new Lazy<TrainingData>(() => new TrainingData(FashionMnist.Load(d)))).Value;
    }
}

/// <summary>What a trial's results depend on besides its spec: library and code versions.</summary>
public static class Provenance
{
    public static string TorchSharpVersion { get; } = typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    public static string LibTorchVersion => torch.__version__;

    /// <summary>The informational version of the trainer, with the git commit it was built from when known.</summary>
    public static string CodeVersion { get; } =
        typeof(Provenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}

using System.Collections.Concurrent;
using System.IO.Compression;

namespace ScalingLedger.Trainer.Data;

/// <summary>Fashion-MNIST as flat arrays: images normalised to zero mean and unit variance, labels 0..9.</summary>
public sealed class FashionMnist
{
    public const int Pixels = 28 * 28;
    public const int Classes = 10;
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    // Mean and standard deviation of the training pixels scaled to [0, 1].
    private const float Mean = 0.2860f, Std = 0.3530f;

    private static readonly ConcurrentDictionary<string, Lazy<FashionMnist>> Loaded = new();

    public required float[] TrainImages { get; init; }
    public required long[] TrainLabels { get; init; }
    public required float[] TestImages { get; init; }
    public required long[] TestLabels { get; init; }
    public required IReadOnlyDictionary<string, string> FileSha256 { get; init; }
    public int TrainCount => TrainLabels.Length;
    public int TestCount => TestLabels.Length;

    /// <summary>Loads the data set from the Debian package's IDX files once per process and directory.</summary>
    public static FashionMnist Load(string? directory = null)
    {
        var dir = Path.GetFullPath(directory ?? DefaultDirectory);
        return Loaded.GetOrAdd(dir, d => new Lazy<FashionMnist>(() => LoadFrom(d))).Value;
    }

    private static FashionMnist LoadFrom(string dir)
    {
        string FileOf(string name)
        {
            foreach (var candidate in new[] { Path.Combine(dir, name + ".gz"), Path.Combine(dir, name) })
                if (File.Exists(candidate)) return candidate;
            throw new FileNotFoundException(
                $"Fashion-MNIST file '{name}.gz' not found in {dir}. Install the Debian package dataset-fashion-mnist " +
                "(apt-get install dataset-fashion-mnist) or set Trainer__DatasetDirectory.");
        }
        var files = new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }
            .ToDictionary(n => n, FileOf);
        var data = new FashionMnist
        {
            TrainImages = Normalise(Idx.ReadImages(files["train-images-idx3-ubyte"])),
            TrainLabels = Idx.ReadLabels(files["train-labels-idx1-ubyte"]),
            TestImages = Normalise(Idx.ReadImages(files["t10k-images-idx3-ubyte"])),
            TestLabels = Idx.ReadLabels(files["t10k-labels-idx1-ubyte"]),
            FileSha256 = files.ToDictionary(f => Path.GetFileName(f.Value), f => Idx.Sha256(f.Value)),
        };
        if (data.TrainImages.Length != data.TrainCount * Pixels || data.TestImages.Length != data.TestCount * Pixels)
            throw new InvalidDataException($"Fashion-MNIST in {dir}: image and label counts disagree.");
        return data;
    }

    private static float[] Normalise(byte[] pixels)
    {
        var result = new float[pixels.Length];
        for (var i = 0; i < pixels.Length; i++) result[i] = (pixels[i] / 255f - Mean) / Std;
        return result;
    }
}

/// <summary>Reader for the IDX format (optionally gzip-compressed) used by MNIST-like data sets.</summary>
public static class Idx
{
    public static byte[] ReadImages(string path)
    {
        var (dims, body) = Read(path, expectedType: 0x08, expectedRank: 3);
        if (dims[1] != 28 || dims[2] != 28) throw new InvalidDataException($"{path}: expected 28x28 images, got {dims[1]}x{dims[2]}.");
        return body;
    }

    public static long[] ReadLabels(string path)
    {
        var (_, body) = Read(path, expectedType: 0x08, expectedRank: 1);
        return body.Select(b => (long)b).ToArray();
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    private static (int[] Dims, byte[] Body) Read(string path, int expectedType, int expectedRank)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new BinaryReader(stream);
        var magic = reader.ReadBytes(4);
        if (magic.Length < 4 || magic[0] != 0 || magic[1] != 0 || magic[2] != expectedType || magic[3] != expectedRank)
            throw new InvalidDataException($"{path}: not an IDX file of rank {expectedRank} with unsigned bytes.");
        var dims = new int[expectedRank];
        for (var i = 0; i < expectedRank; i++)
        {
            var b = reader.ReadBytes(4);
            dims[i] = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        }
        var length = dims.Aggregate(1L, (a, d) => a * d);
        var body = reader.ReadBytes(checked((int)length));
        if (body.Length != length) throw new InvalidDataException($"{path}: truncated ({body.Length} of {length} bytes).");
        return (dims, body);
    }
}

using ScalingLedger.Trainer.Data;

namespace ScalingLedger.Trainer.Tests;

/// <summary>The real data set from the Debian package dataset-fashion-mnist.</summary>
public class FashionMnistTests
{
    [Fact]
    public void loads_the_debian_package_files_once_per_process()
    {
        var data = FashionMnist.Load();
        data.TrainCount.ShouldBe(60_000);
        data.TestCount.ShouldBe(10_000);
        data.TrainImages.Length.ShouldBe(60_000 * 784);
        data.TrainLabels.ShouldAllBe(l => l >= 0 && l <= 9);
        data.TrainLabels.Distinct().Count().ShouldBe(10);
        // Normalised with the training set's mean and standard deviation: about 0 and 1.
        var sample = data.TrainImages.AsSpan(0, 784 * 1000).ToArray();
        sample.Average().ShouldBe(0, 0.1);
        FashionMnist.Load().ShouldBeSameAs(data);
        data.FileSha256.Count.ShouldBe(4);
        data.FileSha256.Values.ShouldAllBe(h => h.Length == 64);
    }

    [Fact]
    public void a_missing_data_set_names_the_package_to_install()
    {
        var dir = Path.Combine(Path.GetTempPath(), "no-fashion-mnist-" + Guid.NewGuid().ToString("N"));
        var ex = Should.Throw<FileNotFoundException>(() => FashionMnist.Load(dir));
        ex.Message.ShouldContain("dataset-fashion-mnist");
    }

    [Fact]
    public void rejects_a_file_that_is_not_idx()
    {
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);
        try
        {
            Should.Throw<InvalidDataException>(() => Idx.ReadLabels(path)).Message.ShouldContain("not an IDX file");
        }
        finally
        {
            File.Delete(path);
        }
    }
}

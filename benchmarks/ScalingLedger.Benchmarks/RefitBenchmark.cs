using System.Diagnostics;
using System.Globalization;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// Refits every law of a 432-trial study (12 widths x 12 learning rates x 3 seeds, synthetic Metz-like losses) with
/// 1,000 bootstrap resamples per fit, and prints the median and minimum wall time over several repetitions.
/// Usage: dotnet run -c Release --project benchmarks/ScalingLedger.Benchmarks -- refit [repetitions [resamples]]
/// </summary>
internal static class RefitBenchmark
{
    public static void Run(string[] args)
    {
        // --recording FILE: the study of a real recording (real, noisy losses) instead of the synthetic one.
        var study = MetzLikeStudy.Create();
        if (args.Length > 1 && args[0] == "--recording")
        {
            study = RecordedStudy(Trainer.Training.TrialRecording.Load(args[1]));
            args = args[2..];
        }
        // --fitter VERSION: an earlier method the ledger still runs (for its audits), timed against this one.
        string? fitter = null;
        if (args.Length > 1 && args[0] == "--fitter")
        {
            fitter = args[1];
            if (!LawEngine.SupportedFitterVersions.Contains(fitter))
                throw new ArgumentException($"Fitter {fitter} is not one this ledger runs: {string.Join(", ", LawEngine.SupportedFitterVersions)}.");
            args = args[2..];
        }
        var repetitions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
        var resamples = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        var options = new FitOptions(new BootstrapOptions(resamples), Fitter: fitter);
        Console.WriteLine($"fitter {fitter ?? LawEngine.FitterVersion}");

        var warmUp = LawEngine.FitAll(study.Trials, null, options);
        Console.WriteLine($"{study.Trials.Count} trials, {Environment.ProcessorCount} cores, {resamples} resamples per fit: " +
            string.Join(", ", warmUp.GroupBy(f => f.Law).Select(g => $"{g.Count()} {g.Key}")));
        foreach (var f in warmUp.Where(f => f.Key == LawKeys.All))
            Console.WriteLine($"  {f.Law}: {string.Join(", ", f.Parameters.Select(p => $"{p.Key}={p.Value:G4}"))}" +
                $" (bootstrap {f.BootstrapConverged}/{f.BootstrapResamples} converged)");

        var times = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            var watch = Stopwatch.StartNew();
            var fits = LawEngine.FitAll(study.Trials, null, options);
            watch.Stop();
            if (fits.Count != warmUp.Count) throw new InvalidOperationException("The fits changed between repetitions.");
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        var single = options with { Bootstrap = new BootstrapOptions(resamples, MaxDegreeOfParallelism: 1) };
        // Every law of the registry, each on one thread (a new law is timed without touching this benchmark).
        var candidates = LawEngine.Candidates(study.Trials, null, single);
        foreach (var law in LawRegistry.Default.All)
        {
            var watch = Stopwatch.StartNew();
            var fitted = candidates.Where(c => c.Law == law.Name).Select(c => c.Fit()).Count();
            Console.WriteLine(FormattableString.Invariant($"  {law.Name} ({fitted} fits) on one thread: {watch.Elapsed.TotalMilliseconds:F0} ms"));
        }
        Console.WriteLine(FormattableString.Invariant(
            $"FitAll over {repetitions} repetitions: median {times[times.Count / 2]:F0} ms, min {times[0]:F0} ms, max {times[^1]:F0} ms"));
    }

    /// <summary>A completed study made of a recording's trials (their final losses, divergences included).</summary>
    private static StudyView RecordedStudy(Trainer.Training.TrialRecording recording) => new()
    {
        Id = Guid.Empty, Name = "recorded", Status = StudyStatus.Completed,
        Trials = recording.Trials.Select((t, i) => new TrialView
        {
            TrialId = new Guid(i, 0, 0, new byte[8]), Order = i, Width = t.Width, LearningRate = t.LearningRate, Seed = t.Seed,
            Status = t.Status == "Completed" ? TrialStatus.Completed : TrialStatus.Diverged,
            FinalEvalLoss = t.Status == "Completed" ? t.FinalEvalLoss : null,
        }).ToList(),
    };
}

/// <summary>
/// Metz-like synthetic sweep: the loss is a bowl in ln(lr) around lr*(h) = 0.1 h^-0.5 (shrinking with width) on top of
/// a frontier 0.25 + 2 h^-0.35, with 1% multiplicative seed noise; rates more than e^2 above lr*(h) diverge.
/// </summary>
internal static class MetzLikeStudy
{
    public static StudyView Create()
    {
        var widths = Enumerable.Range(0, 12).Select(i => 16 << i).ToArray();
        var rates = Enumerable.Range(0, 12).Select(i => Math.Pow(10, -5 + i * 4.0 / 11)).ToArray();
        var random = new Random(7);
        var trials = new List<TrialView>();
        foreach (var h in widths)
            foreach (var lr in rates)
                foreach (var seed in new[] { 0, 1, 2 })
                {
                    var distance = Math.Log(lr) - Math.Log(0.1 * Math.Pow(h, -0.5));
                    var noise = 0.01 * (2 * random.NextDouble() - 1);
                    var diverged = distance > 2;
                    trials.Add(new TrialView
                    {
                        TrialId = new Guid(trials.Count, 0, 0, new byte[8]), Order = trials.Count, Width = h, LearningRate = lr, Seed = seed,
                        Status = diverged ? TrialStatus.Diverged : TrialStatus.Completed,
                        FinalEvalLoss = diverged ? null : (0.25 + 2 * Math.Pow(h, -0.35) + 0.05 * distance * distance) * (1 + noise),
                    });
                }
        return new StudyView { Id = Guid.Empty, Name = "metz-like", Status = StudyStatus.Completed, Trials = trials };
    }
}

using System.Diagnostics;
using ScalingLedger.Domain;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// Do the 95% intervals hold 95% of the time? Replays real sweeps trained by this ledger (recordings it keeps,
/// <c>benchmarks/recordings/eval-*.json</c>) through the reactor's decisions, exactly as the Server records them, and prints per
/// law the coverage of its last prediction before each point was observed: the calibrated interval (what the ledger promises)
/// and the bootstrap's own interval side by side, each with its 95% binomial interval, and how much wider the calibrated one is.
/// Usage: dotnet run -c Release --project benchmarks/ScalingLedger.Benchmarks -- calibration [RECORDING.json ...] [--resamples N]
/// </summary>
internal static class CalibrationBenchmark
{
    public static int Run(string[] args)
    {
        var resamples = 1000;
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
            if (args[i] == "--resamples") resamples = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else files.Add(args[i]);
        if (files.Count == 0)
        {
            var dir = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "recordings"));
            files.AddRange(Directory.GetFiles(dir, "eval-*.json").Order());
        }
        var options = new FitOptions(new BootstrapOptions(resamples));
        var all = new List<(string Sweep, StudyView View)>();
        foreach (var file in files)
        {
            var recording = TrialRecording.Load(file);
            var outcomes = recording.Trials.Select(t => new SweepReplay.Outcome(t.Width, t.LearningRate, t.Seed, t.Status == "Diverged",
                t.Status == "Completed" ? t.FinalEvalLoss : null)).ToList();
            var name = Path.GetFileNameWithoutExtension(file);
            var parameterization = recording.Source.Contains("muP", StringComparison.Ordinal) ? "mup" : "standard";
            var clock = Stopwatch.StartNew();
            var view = SweepReplay.Run(outcomes, name, options, parameterization);
            Console.WriteLine($"== {name} ({parameterization}): {recording.Source}");
            Console.WriteLine($"   replayed in {clock.Elapsed.TotalSeconds:F1} s: {view.FitCount} fits, {view.Predictions.Count} predictions");
            Print(view.Calibration, view);
            foreach (var bend in view.Bends) Console.WriteLine($"   bends: {bend.Sentence}");
            all.Add((name, view));
        }
        Console.WriteLine($"== all {all.Count} sweeps together (last prediction before each point was observed)");
        Print(Calibration.LastBeforeObservation(all.SelectMany(a => a.View.CrediblePredictions)), null);
        return 0;
    }

    private static void Print(IReadOnlyList<LawCalibration> calibration, StudyView? view)
    {
        Console.WriteLine("   law                    points  calibrated inside [95% binomial]   bootstrap inside [95% binomial]   width calibrated/bootstrap");
        foreach (var c in calibration)
        {
            var (bl, bu) = Calibration.Wilson(c.BootstrapInside, c.BootstrapResolved);
            var boot = c.BootstrapResolved > 0
                ? $"{c.BootstrapInside,3}/{c.BootstrapResolved,-3} {Percent(c.BootstrapShare!.Value)} [{Percent(bl)}, {Percent(bu)}]"
                : "–";
            Console.WriteLine($"   {c.Law,-22} {c.Resolved,6}  {c.Inside,3}/{c.Resolved,-3} {Percent(c.ShareInside)} [{Percent(c.Lower)}, {Percent(c.Upper)}]" +
                $"      {boot,-32}  {WidthRatio(c.Law, view)}");
        }
    }

    /// <summary>The median ratio of the calibrated interval's width to the bootstrap's, in log space, over a sweep's predictions.</summary>
    private static string WidthRatio(string law, StudyView? view)
    {
        if (view is null) return "";
        var ratios = view.CrediblePredictions.Select(p => p.Issued)
            .Where(p => p.Law == law && p is { BootstrapLower: > 0, BootstrapUpper: { } bu, Lower: > 0 } && bu > p.BootstrapLower)
            .Select(p => Math.Log(p.Upper / p.Lower) / Math.Log(p.BootstrapUpper!.Value / p.BootstrapLower!.Value)).Order().ToList();
        return ratios.Count == 0 ? "" : $"median {Numbers.Format(ratios[ratios.Count / 2], 3)}x";
    }

    private static string Percent(double share) => $"{100 * share,3:F0}%";
}

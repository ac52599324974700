using System.Diagnostics;
using ScalingLedger.Contracts;
using ScalingLedger.Domain;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// Do the 95% intervals hold 95% of the time? Replays real sweeps trained by this ledger (recordings it keeps,
/// <c>benchmarks/recordings/eval-*.json</c>) through the reactor's decisions, exactly as the Server records them, and prints per
/// law the coverage of its last prediction before each point was observed: the calibrated interval (what the ledger promises)
/// and the bootstrap's own interval side by side, each with its 95% binomial interval, and how much wider the calibrated one is.
/// Then the same at reach (<see cref="CalibrationAtReach"/>): per law and per doublings beyond the fit's widest width, by claim
/// and by width-event, with the median interval's factor (sharpness), credible and set-aside fits apart, and the tuned and
/// fixed-rate laws pooled.
/// Usage: dotnet run -c Release --project benchmarks/ScalingLedger.Benchmarks -- calibration [RECORDING.json ...] [--resamples N]
/// [--fitter VERSION] (an earlier fitter's method, e.g. 3.0.0, to compare side by side)
/// </summary>
internal static class CalibrationBenchmark
{
    public static int Run(string[] args)
    {
        var resamples = 1000;
        string? fitter = null;
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
            if (args[i] == "--resamples") resamples = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else if (args[i] == "--fitter") fitter = args[++i];
            else files.Add(args[i]);
        if (fitter is not null && !LawEngine.SupportedFitterVersions.Contains(fitter))
        {
            Console.Error.WriteLine($"Unknown fitter {fitter}: this ledger runs {string.Join(", ", LawEngine.SupportedFitterVersions)}.");
            return 2;
        }
        Console.WriteLine($"Fitter {fitter ?? LawEngine.FitterVersion}, {resamples} resamples");
        if (files.Count == 0)
        {
            var dir = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "recordings"));
            files.AddRange(Directory.GetFiles(dir, "eval-*.json").Concat(Directory.GetFiles(dir, "metz-*.json")).Order());
        }
        var options = new FitOptions(new BootstrapOptions(resamples), Fitter: fitter);
        var all = new List<(string Sweep, StudyView View)>();
        // By study and fit: a replayed sweep's fit ids repeat in the next sweep.
        var widest = new Dictionary<(Guid Study, Guid Fit), double>();
        var widthsSeen = new Dictionary<(Guid Study, Guid Fit), int>();
        foreach (var file in files)
        {
            var recording = TrialRecording.Load(file);
            var (outcomes, parameterization) = Recording.ForReplay(recording);
            var name = Path.GetFileNameWithoutExtension(file);
            var clock = Stopwatch.StartNew();
            var view = SweepReplay.Run(outcomes, name, options, parameterization, decided: e =>
            {
                if (e is LawFitted { Points.Count: > 0 } fit && LawRegistry.Default.Find(fit.Law) is { PredictsWidths: true })
                {
                    widest[(fit.StudyId, fit.FitId)] = fit.Points.Max(p => p.X);
                    widthsSeen[(fit.StudyId, fit.FitId)] = fit.Points.Select(p => p.X).Distinct().Count();
                }
            });
            Console.WriteLine($"== {name} ({parameterization}): {recording.Source}");
            Console.WriteLine($"   replayed in {clock.Elapsed.TotalSeconds:F1} s: {view.FitCount} fits, {view.Predictions.Count} predictions");
            Print(view.Calibration, view);
            foreach (var bend in view.Bends) Console.WriteLine($"   bends: {bend.Sentence}");
            PrintReach(view.CrediblePredictions, widest, pooled: false);
            all.Add((name, view));
        }
        Console.WriteLine($"== all {all.Count} sweeps together (last prediction before each point was observed)");
        Print(Calibration.LastBeforeObservation(all.SelectMany(a => a.View.CrediblePredictions)), null);
        Console.WriteLine($"== all {all.Count} sweeps together, at reach: credible fits");
        PrintReach(all.SelectMany(a => a.View.CrediblePredictions), widest, pooled: true);
        // The best rate one doubling ahead from fits that saw five widths or more (issue 23's sharpness target: x/÷2.5 at most).
        var fromFive = all.SelectMany(a => a.View.CrediblePredictions)
            .Where(p => p.Issued.Law == OptimalLrLaw.LawName && widthsSeen.GetValueOrDefault((p.Issued.StudyId, p.Issued.FitId)) >= 5);
        Console.WriteLine("== the best rate one doubling ahead, from fits of five widths or more (credible)");
        PrintReach(fromFive, widest.Where(w => widthsSeen.GetValueOrDefault(w.Key) >= 5).ToDictionary(), pooled: false, onlyReach: 1);
        Console.WriteLine($"== all {all.Count} sweeps together, at reach: fits set aside as not credible");
        PrintReach(all.SelectMany(a => a.View.SetAsidePredictions), widest, pooled: true);
        return 0;
    }

    /// <summary>
    /// Coverage per law and reach (doublings beyond the fit's widest width; 3 is three and more), by claim and by width-event,
    /// with the median 95% interval as a factor x/÷ (sharpness) and the bootstrap's own intervals beside; pooled, also the
    /// tuned laws (every law of the best rate or its loss) and the fixed-rate laws together.
    /// </summary>
    private static void PrintReach(IEnumerable<PredictionView> predictions, IReadOnlyDictionary<(Guid, Guid), double> widest, bool pooled,
        int? onlyReach = null)
    {
        var claims = CalibrationAtReach.LastAtEachReach(predictions, (study, fit) => widest.TryGetValue((study, fit), out var w) ? w : null)
            .Where(c => onlyReach is null || c.Reach == onlyReach).ToList();
        var rows = claims.GroupBy(c => (c.Claim.Issued.Law, c.Reach)).OrderBy(g => g.Key.Law, StringComparer.Ordinal).ThenBy(g => g.Key.Reach)
            .Select(g => CalibrationAtReach.Summarise(g.Key.Law, g.Key.Reach, g.Select(c => c.Claim).ToList())).ToList();
        if (pooled)
        {
            bool FixedRate(string law) => LawRegistry.Default.Find(law) is FixedLrLaw;
            foreach (var (label, fixedRate) in new[] { ("tuned laws together", false), ("fixed-rate laws together", true) })
                rows.AddRange(claims.Where(c => FixedRate(c.Claim.Issued.Law) == fixedRate).GroupBy(c => c.Reach).OrderBy(g => g.Key)
                    .Select(g => CalibrationAtReach.Summarise(label, g.Key, g.Select(c => c.Claim).ToList())));
        }
        if (rows.Count == 0)
        {
            Console.WriteLine("   (no resolved claims)");
            return;
        }
        Console.WriteLine("   law                       reach  claims inside   width-events held [95% binomial]   median 95% x/÷   bootstrap inside" +
                          "   censored held");
        foreach (var r in rows)
        {
            var reach = r.Reach == 0 ? "within"
                : r.Reach == CalibrationAtReach.Farthest ? "3+" : r.Reach.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var boot = r.BootstrapClaims > 0 ? $"{r.BootstrapInside}/{r.BootstrapClaims}" : "–";
            var factor = r.MedianFactor is { } f ? Numbers.Format(f, 3) : "–";
            Console.WriteLine($"   {r.Law,-25} {reach,6}  {r.ClaimsInside,4}/{r.Claims,-4}    " +
                $"{r.WidthEventsHeld,3}/{r.WidthEvents,-3} {Percent(r.ShareHeld)} " +
                $"[{Percent(r.Lower)}, {Percent(r.Upper)}]      {factor,-14}   {boot,-16}   " +
                (r.CensoredClaims > 0 ? $"{r.CensoredInside}/{r.CensoredClaims}" : "–"));
        }
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

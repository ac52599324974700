using ScalingLedger.Contracts;
using ScalingLedger.Domain;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// Metz's failure head to head (issue 23 item 5): a recorded sweep replayed through the reactor's decisions as the Server
/// records them, and the claims its laws made when only the first widths had been observed (three, as in the note) about the
/// widest widths: at the naive fixed rate (the best rate at the smallest width, kept), every law that claims there, and at
/// the best rate. Each claim with its interval, what was then observed, and whether it held; the fits of that moment that
/// could make no interval say why.
/// Usage: dotnet run -c Release --project benchmarks/ScalingLedger.Benchmarks -- metz [RECORDING.json] [--observed 3] [--at 1024,2048]
/// </summary>
internal static class MetzHeadToHead
{
    public static int Run(string[] args)
    {
        var observed = 3;
        int[]? at = null;
        string? file = null;
        for (var i = 0; i < args.Length; i++)
            if (args[i] == "--observed") observed = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else if (args[i] == "--at") at = args[++i].Split(',').Select(w => int.Parse(w, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            else file = args[i];
        file ??= Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "recordings", "metz-fashion.json"));
        var recording = TrialRecording.Load(file);
        var (outcomes, parameterization) = Recording.ForReplay(recording);
        var widths = outcomes.Select(o => o.Width).Distinct().Order().ToList();
        if (observed < 2 || observed >= widths.Count)
        {
            Console.Error.WriteLine($"--observed {observed}: the recording has {widths.Count} widths; observe 2 to {widths.Count - 1} of them.");
            return 2;
        }
        at ??= widths.TakeLast(2).ToArray();
        var widest = new Dictionary<Guid, double>();
        var fits = new List<LawFitted>();
        var view = SweepReplay.Run(outcomes, Path.GetFileNameWithoutExtension(file), new FitOptions(new BootstrapOptions(1000)), parameterization,
            decided: e =>
            {
                if (e is not LawFitted { Points.Count: > 0 } fit) return;
                widest[fit.FitId] = fit.Points.Max(p => p.X);
                fits.Add(fit);
            });
        var seen = widths[observed - 1];
        var naive = ExtensionPlan.NaiveRate(view.Trials);
        Console.WriteLine($"== {Path.GetFileName(file)} ({parameterization}): {recording.Source}");
        Console.WriteLine($"   the claims made when widths {string.Join(", ", widths.Take(observed))} had been observed (fits whose widest width " +
                          $"was {seen}), about widths {string.Join(", ", at)}; the naive fixed rate (best at width {widths[0]}): {Numbers.Format(naive ?? 0)}");
        foreach (var width in at)
        {
            var atWidth = view.Trials.Where(t => t.Width == width).ToList();
            var analysis = OptimalLearningRate.Analyse(atWidth);
            var best = analysis.Optima.SingleOrDefault() is { } o ? $"best rate {Numbers.Format(o.RefinedLearningRate)} (loss {Numbers.Format(o.MeanLoss, 4)})"
                : analysis.Censored.SingleOrDefault() is { } c ? $"best rate {PredictionResolution.Range(c.AtLeastRate, c.AtMostRate)} ({c.Why})"
                : "no optimum";
            var atNaive = naive is { } r ? Observation.OfCell(atWidth.Where(t => t.LearningRate == r).ToList()) : null;
            Console.WriteLine($"-- width {width}: observed {best}; at the naive rate: " +
                              (atNaive?.Value is { } v ? $"loss {Numbers.Format(v, 4)}" : atNaive is null ? "not trained" : "diverged"));
            var claims = view.Predictions
                .Where(p => p.Issued.Width == width && widest.TryGetValue(p.Issued.FitId, out var w) && w == seen)
                .GroupBy(p => (p.Issued.Law, p.Issued.Key, p.Issued.AtLearningRate)).Select(g => g.MaxBy(p => p.IssuedSequence)!)
                .Where(p => LawKeys.RateOf(p.Issued.Key) is not { } keyRate && p.Issued.AtLearningRate is null
                            || (p.Issued.AtLearningRate ?? LawKeys.RateOf(p.Issued.Key)) == naive)
                .OrderBy(p => p.Issued.Law, StringComparer.Ordinal).ThenBy(p => p.Issued.Key, StringComparer.Ordinal).ToList();
            if (claims.Count == 0) Console.WriteLine("   no claim about it from those fits");
            foreach (var p in claims)
            {
                var i = p.Issued;
                var rate = i.LearningRate is { } lr ? Numbers.Format(lr) : "best";
                var factor = i.Lower > 0 ? $"x/÷{Numbers.Format(Math.Sqrt(i.Upper / i.Lower), 3)}" : "unbounded below";
                var verdict = p.Resolution is not { } res ? "open" : res.Inside ? "held" : "MISSED";
                var credible = view.SetAsideReason(p) is null ? "credible" : "set aside";
                var seenThere = p.Resolution is { } r2 ? PredictionResolution.ObservedText(r2, x => Numbers.Format(x, 4)) : "–";
                Console.WriteLine($"   {i.Law,-22} {i.Key,-12} at lr {rate,-9} claimed {Numbers.Format(i.Predicted, 4)} " +
                                  $"[{Numbers.Format(i.Lower, 3)}, {Numbers.Format(i.Upper, 3)}] {factor,-12} observed {seenThere}: {verdict} ({credible})");
            }
        }
        // What each law's last fit from those widths was, where it claimed nothing with an interval: why.
        Console.WriteLine($"-- the laws' last fits from widths up to {seen}, where they claimed nothing with an interval:");
        var then = fits.Where(f => widest[f.FitId] == seen).GroupBy(f => (f.Law, f.Key)).Select(g => g.Last()).ToList();
        foreach (var law in LawRegistry.Default.All.Where(l => l.PredictsWidths))
        {
            var mine = then.Where(f => f.Law == law.Name).ToList();
            if (mine.Count == 0) Console.WriteLine($"   {law.Name,-22} not fitted from {observed} widths");
            foreach (var f in mine)
                if (PredictionIntervals.WhyNone(f) is { } why) Console.WriteLine($"   {law.Name,-22} {f.Key,-12} {why}");
                else if (!f.Converged) Console.WriteLine($"   {law.Name,-22} {f.Key,-12} did not converge: {f.Message}");
        }
        return 0;
    }
}

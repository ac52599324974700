using MathNet.Numerics;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Claims;

/// <summary>
/// A law that bends: its misses of the widths it had not seen fall on one side (a finding, not a row of red predictions).
/// </summary>
/// <param name="Misses">The law's predictions of the next width out of sample (see <see cref="OutOfSample"/>), and
/// <paramref name="SameSide"/> how many missed on the side most did.</param>
/// <param name="PValue">The two-sided sign test's p: how likely that many on one side are if misses fall either way at random.</param>
/// <param name="Alternative">The law's curved alternative, where the registry has one and it has been fitted; then the root mean
/// square of the two laws' log misses over the <paramref name="Compared"/> predictions both made, and which the evidence prefers.</param>
public sealed record LawBend(string Law, string Key, int Misses, int SameSide, double PValue, string Direction, string Sentence,
    string? Alternative = null, double? Error = null, double? AlternativeError = null, int? Compared = null, string? Preferred = null);

/// <summary>
/// Whether a law bends. The evidence is the law's successive predictions of the next width, each from the widths before it
/// (its one-step-ahead misses out of sample, <see cref="OutOfSample"/>: what the ledger's successive predictions would have
/// missed): all of at least <see cref="MinimumMisses"/> on one side (three of three: sign test p = 0.25). That alone is weak
/// and, with noisy optima, happens to a straight law one time in three (the misses share data); so where the registry
/// holds a curved alternative of the law, the alternative must also explain the misses: its out-of-sample error, over the
/// widths both predicted unseen, at most 1/<see cref="MinimumGain"/> of the law's. On generated sweeps (five widths, two
/// seeds, 0.5% noise) that flags a straight optimal-LR line in 4 of 30 and a bend of -0.2 in (ln h)^2 in 25 of 30. A law
/// without an alternative needs <see cref="MinimumMissesAlone"/> such misses (p = 0.125). The flag is an alarm to look; its
/// sentence gives the count, p, the direction and the comparison.
/// </summary>
public static class LawBends
{
    public const int MinimumMisses = 3;
    public const int MinimumMissesAlone = 4;
    public const double MinimumGain = 1.5;

    /// <summary>The bends among a study's newest fits, in the registry's order.</summary>
    public static IReadOnlyList<LawBend> Of(IReadOnlyList<LawFitted> latest, LawRegistry? laws = null)
    {
        laws ??= LawRegistry.Default;
        return latest.InLawOrder(f => (f.Law, f.Key), laws).Select(f => Of(f, latest, laws)).OfType<LawBend>().ToList();
    }

    public static LawBend? Of(LawFitted fit, IReadOnlyList<LawFitted> latest, LawRegistry laws)
    {
        if (!fit.Converged || fit.OutOfSample is not { Count: >= MinimumMisses } misses) return null;
        var widths = fit.Points.Select(p => p.X).Distinct().Order().ToList();
        var next = misses.Where(m => widths.IndexOf(m.Width) == widths.IndexOf(m.FittedUpTo) + 1 && widths.Contains(m.FittedUpTo))
            .Select(OutOfSample.LogResidual).Where(r => r != 0 && double.IsFinite(r)).ToList();
        var n = next.Count;
        var below = next.Count(r => r < 0);
        if (n < MinimumMisses || (below != 0 && below != n)) return null;
        var law = laws.Find(fit.Law);
        var alternative = laws.All.FirstOrDefault(l => l.AlternativeTo == fit.Law);
        var theirs = alternative is null ? null : latest.FirstOrDefault(f => f.Law == alternative.Name && f.Key == fit.Key && f.Converged)?.OutOfSample;
        if (alternative is null || theirs is null)
        {
            if (n < MinimumMissesAlone) return null;
        }
        var p = SignTest(n, n);
        var direction = law?.Quantity == LawQuantity.LearningRate
            ? below > 0 ? "the best rate falls faster with width than the law says" : "the best rate falls slower with width than the law says"
            : below > 0 ? "the loss falls faster with width than the law says" : "the loss falls slower with width than the law says (it flattens)";
        var sentence = $"{fit.Law} {fit.Key}: its {n} predictions of the next width, each from the widths before it, all missed on one side " +
                       $"(sign test p = {Numbers.Format(p, 2)}): {direction}.";
        var bend = new LawBend(fit.Law, fit.Key, n, n, p, direction, sentence);
        if (alternative is null || theirs is null) return bend;
        // Compared where both predicted the same width from the same evidence.
        var mine = misses.ToDictionary(m => (m.FittedUpTo, m.Width, m.LearningRate), OutOfSample.LogResidual);
        var pairs = theirs.Where(t => mine.ContainsKey((t.FittedUpTo, t.Width, t.LearningRate)))
            .Select(t => (Line: mine[(t.FittedUpTo, t.Width, t.LearningRate)], Curve: OutOfSample.LogResidual(t))).ToList();
        if (pairs.Count == 0) return null;
        var error = Math.Sqrt(pairs.Average(x => x.Line * x.Line));
        var alternativeError = Math.Sqrt(pairs.Average(x => x.Curve * x.Curve));
        // One-sided misses that the curve does not explain better are the noise of the optima, not a bend.
        if (alternativeError * MinimumGain > error) return null;
        var verdict = $" The evidence prefers {alternative.Name}: over the {pairs.Count} widths both predicted unseen, the root mean square of " +
                      $"their log misses is {Numbers.Format(alternativeError, 2)} against {Numbers.Format(error, 2)} for {fit.Law} " +
                      $"({Numbers.Format(error / Math.Max(alternativeError, 1e-12), 2)} times smaller).";
        return bend with
        {
            Sentence = sentence + verdict,
            Alternative = alternative.Name,
            Error = error,
            AlternativeError = alternativeError,
            Compared = pairs.Count,
            Preferred = alternative.Name,
        };
    }

    /// <summary>The two-sided sign test: the chance of at least <paramref name="same"/> of <paramref name="n"/> on one side, either side.</summary>
    public static double SignTest(int same, int n)
    {
        var tail = 0.0;
        for (var i = same; i <= n; i++) tail += Math.Exp(LogChoose(n, i) - n * Math.Log(2));
        return Math.Min(1, 2 * tail);
    }

    private static double LogChoose(int n, int k) =>
        SpecialFunctions.FactorialLn(n) - SpecialFunctions.FactorialLn(k) - SpecialFunctions.FactorialLn(n - k);
}

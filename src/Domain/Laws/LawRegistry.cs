using System.Globalization;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// The laws the ledger fits, in the order a study's fits are made and listed, found by name. <see cref="Default"/> is the
/// ledger's; a test may make one with a law of its own (<see cref="With"/>) and hand it to what it exercises.
/// </summary>
public sealed class LawRegistry
{
    public static LawRegistry Default { get; } = new(
    [
        new FixedLrLogLinearLaw(),
        new FixedLrPowerLaw(),
        new TunedFrontierPowerLaw(),
        new OptimalLrLaw(),
        new ChinchillaStudyLaw(),
        new WidthLrSurfaceLaw(),
        new OptimalLrQuadraticLaw(),
    ]);

    private readonly Dictionary<string, (Law Law, int Order)> byName;

    public LawRegistry(IEnumerable<Law> laws)
    {
        All = laws.ToList();
        byName = All.Select((law, i) => (law, i)).ToDictionary(l => l.law.Name, l => l, StringComparer.Ordinal);
    }

    public IReadOnlyList<Law> All { get; }

    public Law? Find(string name) => byName.TryGetValue(name, out var found) ? found.Law : null;

    /// <summary>A law's place in the registry (unknown laws last).</summary>
    public int OrderOf(string name) => byName.TryGetValue(name, out var found) ? found.Order : int.MaxValue;

    /// <summary>These laws and one more, last.</summary>
    public LawRegistry With(Law law) => new([.. All, law]);
}

/// <summary>The keys of fits: one per learning rate for the fixed-LR laws, <c>all</c> for the laws over the whole study.</summary>
public static class LawKeys
{
    public const string All = "all";

    /// <summary>The key of a fixed-LR law's fit at <paramref name="rate"/>.</summary>
    public static string Rate(double rate) => "lr=" + rate.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The rate a fixed-LR key names, or null.</summary>
    public static double? RateOf(string key) =>
        key.StartsWith("lr=", StringComparison.Ordinal)
        && double.TryParse(key.AsSpan(3), NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) ? rate : null;

    /// <summary>Orders fits the way they are listed: the registry's order of laws, then keys by rate, then by name.</summary>
    public static IOrderedEnumerable<T> InLawOrder<T>(this IEnumerable<T> items, Func<T, (string Law, string Key)> of, LawRegistry? laws = null)
    {
        var registry = laws ?? LawRegistry.Default;
        return items.OrderBy(i => registry.OrderOf(of(i).Law)).ThenBy(i => of(i).Law, StringComparer.Ordinal)
            .ThenBy(i => RateOf(of(i).Key) ?? double.MaxValue).ThenBy(i => of(i).Key, StringComparer.Ordinal);
    }
}

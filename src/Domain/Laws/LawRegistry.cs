using System.Globalization;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// One fit a law could make over a study's trials: its key, the evidence and points it would use, and how to fit it.
/// Deciding whether a law needs refitting compares <see cref="Evidence"/> and <see cref="Points"/> with the latest
/// recorded fit, without running the (costly) fit.
/// </summary>
public sealed record LawCandidate(string Law, string Key, IReadOnlyList<Guid> Evidence, IReadOnlyList<FitPoint> Points, Func<FitResult> Fit);

/// <summary>
/// A law, in one place: which fits it makes over a study's trials (and from what evidence), its value at a size,
/// what counts as observing it at a width, and the learning rate a claim of it is about.
/// </summary>
public abstract class Law
{
    public abstract string Name { get; }
    public abstract string Form { get; }
    public abstract int ParameterCount { get; }

    /// <summary>The fits this law would make over <paramref name="trials"/>, one per key, each with its evidence.</summary>
    public abstract IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options);

    /// <summary>The law's value at width <paramref name="x"/> from fitted parameters; null when it has no value at a width.</summary>
    public abstract double? Evaluate(IReadOnlyDictionary<string, double> parameters, double x);

    /// <summary>
    /// The observation of this law's key at <paramref name="width"/> from the trials planned at that width, or null
    /// while it is not observed (yet).
    /// </summary>
    public abstract Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, int width);

    /// <summary>The learning rate a claim of this law at <paramref name="width"/> is about, where there is one.</summary>
    public virtual double? LearningRateAt(string key, double width, LawFitted? optimalLr) => null;

    /// <summary>Whether its fits issue predictions at widths (not the Chinchilla law, whose sizes are N and D).</summary>
    public virtual bool PredictsWidths => true;
}

/// <summary>Every law the ledger fits, found by name.</summary>
public static class LawRegistry
{
    public static readonly Law FixedLrLogLinear = new FixedLrLogLinearLaw();
    public static readonly Law FixedLrPower = new FixedLrPowerLaw();
    public static readonly Law TunedFrontierPower = new TunedFrontierPowerLaw();
    public static readonly Law OptimalLr = new OptimalLrLaw();
    public static readonly Law Chinchilla = new ChinchillaStudyLaw();

    /// <summary>In the order a study's fits are made and listed.</summary>
    public static IReadOnlyList<Law> All { get; } = [FixedLrLogLinear, FixedLrPower, TunedFrontierPower, OptimalLr, Chinchilla];

    public static Law? Find(string name) => All.FirstOrDefault(l => l.Name == name);

    /// <summary>The key of a fixed-LR law's fit at <paramref name="rate"/>.</summary>
    public static string RateKey(double rate) => "lr=" + rate.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The rate a fixed-LR key names, or null.</summary>
    public static double? RateOf(string key) =>
        key.StartsWith("lr=", StringComparison.Ordinal)
        && double.TryParse(key.AsSpan(3), NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) ? rate : null;
}

/// <summary>The laws fitted per learning rate over the mean final loss of completed trials at each width.</summary>
internal abstract class FixedLrLaw : Law
{
    public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, int width)
    {
        if (LawRegistry.RateOf(key) is not { } rate) return null;
        var cell = atWidth.Where(t => t.LearningRate == rate).ToList();
        if (cell.Count == 0 || cell.Any(t => !t.IsTerminal)) return null;
        var completed = cell.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l)).ToList();
        if (completed.Count > 0) return new Observation(completed.Average(t => t.FinalEvalLoss!.Value), completed.Select(t => t.TrialId).ToList());
        var diverged = cell.Where(t => t.Status == TrialStatus.Diverged).ToList();
        return diverged.Count > 0 ? new Observation(null, diverged.Select(t => t.TrialId).ToList()) : null;
    }

    public override double? LearningRateAt(string key, double width, LawFitted? optimalLr) => LawRegistry.RateOf(key);
}

internal sealed class FixedLrLogLinearLaw : FixedLrLaw
{
    public override string Name => LawNames.FixedLrLogLinear;
    public override string Form => LawEngine.LogLinearForm;
    public override int ParameterCount => 2;

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options) =>
        FixedLrData.Of(Sized(trials)).Where(lr => lr.Points.Count >= 2)
            .Select(lr => new LawCandidate(Name, lr.Key, lr.Evidence, lr.Points, () => LawEngine.FitLogLinear(lr, options)));

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, double x) => p["a"] + p["b"] * Math.Log(x);

    internal static IReadOnlyList<TrialView> Sized(IReadOnlyList<TrialView> trials) => trials.Where(t => t.Width >= 1).ToList();
}

internal sealed class FixedLrPowerLaw : FixedLrLaw
{
    public override string Name => LawNames.FixedLrPower;
    public override string Form => PowerLaw.Form;
    public override int ParameterCount => PowerLaw.ParameterCount;

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options) =>
        FixedLrData.Of(FixedLrLogLinearLaw.Sized(trials)).Where(lr => lr.Points.Count > PowerLaw.ParameterCount)
            .Select(lr => new LawCandidate(Name, lr.Key, lr.Evidence, lr.Points, () => LawEngine.FitPower(lr, options)));

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, double x) => PowerLaw.Evaluate(p["E"], p["A"], p["alpha"], x);
}

/// <summary>The laws over each fully ended width's best learning rate (widths whose optimum is bracketed by results).</summary>
internal abstract class OptimumLaw : Law
{
    public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, int width)
    {
        if (atWidth.Count == 0 || atWidth.Any(t => !t.IsTerminal)) return null;
        return OptimalLearningRate.PerWidth(atWidth).SingleOrDefault() is { } optimum
            ? new Observation(Observed(optimum), optimum.EvidenceTrialIds)
            : null;
    }

    protected abstract double Observed(WidthOptimum optimum);
}

internal sealed class TunedFrontierPowerLaw : OptimumLaw
{
    public override string Name => LawNames.TunedFrontierPower;
    public override string Form => PowerLaw.Form;
    public override int ParameterCount => PowerLaw.ParameterCount;

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options)
    {
        var sized = FixedLrLogLinearLaw.Sized(trials);
        var optima = OptimalLearningRate.PerWidth(sized, options.ExcludesHoles);
        if (optima.Count <= PowerLaw.ParameterCount) yield break;
        yield return new LawCandidate(Name, "all", optima.SelectMany(o => o.EvidenceTrialIds).ToList(),
            optima.Select(o => new FitPoint(o.Width, o.MeanLoss)).ToList(), () => LawEngine.TunedFrontierPower(sized, options)!);
    }

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, double x) => PowerLaw.Evaluate(p["E"], p["A"], p["alpha"], x);

    protected override double Observed(WidthOptimum optimum) => optimum.MeanLoss;

    /// <summary>A frontier claim is about the best rate there: the one the optimal-LR law supplies, when fitted.</summary>
    public override double? LearningRateAt(string key, double width, LawFitted? optimalLr) =>
        optimalLr is { Converged: true } lr ? LawRegistry.OptimalLr.Evaluate(lr.Parameters, width) : null;
}

internal sealed class OptimalLrLaw : OptimumLaw
{
    public override string Name => LawNames.OptimalLr;
    public override string Form => LawEngine.OptimalLrForm;
    public override int ParameterCount => 2;

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options)
    {
        var sized = FixedLrLogLinearLaw.Sized(trials);
        if (sized.Count == 0 || !sized.All(t => t.LearningRate > 0)) yield break;
        var optima = OptimalLearningRate.PerWidth(sized, options.ExcludesHoles);
        if (optima.Count < 2) yield break;
        yield return new LawCandidate(Name, "all", optima.SelectMany(o => o.EvidenceTrialIds).ToList(),
            optima.Select(o => new FitPoint(o.Width, o.RefinedLearningRate)).ToList(), () => LawEngine.OptimalLr(sized, options)!);
    }

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, double x) => Math.Exp(p["c"] + p["d"] * Math.Log(x));

    protected override double Observed(WidthOptimum optimum) => optimum.RefinedLearningRate;
}

internal sealed class ChinchillaStudyLaw : Law
{
    public override string Name => LawNames.Chinchilla;
    public override string Form => ChinchillaLaw.Form;
    public override int ParameterCount => ChinchillaLaw.ParameterCount;
    public override bool PredictsWidths => false;

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options)
    {
        var runs = LawEngine.ChinchillaRuns(trials);
        if (runs.Count == 0) yield break;
        yield return new LawCandidate(Name, "all", runs.Select(t => t.TrialId).ToList(),
            runs.Select(t => new FitPoint(t.Params!.Value, t.FinalEvalLoss!.Value, t.Tokens)).ToList(), () => LawEngine.ChinchillaOf(trials, options)!);
    }

    /// <summary>The Chinchilla law needs a parameter count and tokens, not a width.</summary>
    public override double? Evaluate(IReadOnlyDictionary<string, double> p, double x) => null;

    public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, int width) => null;
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// Where a law is evaluated or observed: a width and, for a law of the learning rate too, the rate. A null rate is the
/// law's own rate: its key's rate for a fixed-LR law, the best rate for the laws of the tuned frontier.
/// </summary>
public readonly record struct LawPoint(double Width, double? LearningRate = null);

/// <summary>What a law's values are: a loss, or a learning rate (the optimal-LR law).</summary>
public enum LawQuantity { Loss, LearningRate }

/// <summary>How costly a law is to refit: the reactor refits the quick laws apart from the slow, so the quick never wait.</summary>
public enum RefitCost
{
    /// <summary>Closed-form lines and their bootstrap: milliseconds.</summary>
    Quick,

    /// <summary>Nonlinear laws fitted by L-BFGS with a bootstrap: up to seconds on real losses.</summary>
    Slow,
}

/// <summary>
/// One fit a law could make over a study's trials: its key, the evidence and points it would use, and how to fit it.
/// Deciding whether a law needs refitting compares <see cref="Evidence"/> and <see cref="Points"/> with the latest
/// recorded fit, without running the (costly) fit.
/// </summary>
public sealed record LawCandidate(string Law, string Key, IReadOnlyList<Guid> Evidence, IReadOnlyList<FitPoint> Points, Func<LawFitted> Fit);

/// <summary>
/// A curve of a fitted law for a chart of value against width: at a fixed learning rate (<paramref name="LearningRate"/>),
/// or at the best rate (null).
/// </summary>
/// <param name="ClaimRate">The rate of the fit's claims this curve draws (<see cref="FitPrediction.LearningRate"/>): the
/// curve's rate for a law of the rate too, null for a law whose key holds the rate or whose claims are at the best rate.</param>
/// <param name="At">The curve's value at a width, or null where the law makes no claim.</param>
public sealed record LawCurve(string Label, double? LearningRate, double? ClaimRate, Func<double, double?> At);

/// <summary>
/// A plausible range of one fitted exponent: (Min, Max], or [Min, Max] when <paramref name="MinInclusive"/>; what
/// credibility holds a fit to.
/// </summary>
public sealed record ExponentBound(string Parameter, string What, string Scaling, double Min, bool MinInclusive, double Max)
{
    public bool Admits(double value) => (MinInclusive ? value >= Min : value > Min) && value <= Max;

    /// <summary>"far" when the value is further from the range than the range is wide.</summary>
    public string Reason(double value)
    {
        var distance = value > Max ? value - Max : Min - value;
        var far = distance > Max - Min ? "far " : "";
        return $"{What} {Parameter} = {Numbers.Format(value)} is {far}outside what {Scaling} supports ({Numbers.Format(Min)} to {Numbers.Format(Max)})";
    }
}

/// <summary>
/// What a law says of itself, declared once at the top of its file: its name, form and parameters (in the order the law
/// writes them; a fit may carry others, such as its key's rate), how costly it is to refit, what its values are, the
/// exponents credibility holds to a plausible range and the coefficients that must be positive (whose bootstrap interval
/// credibility requires to pin them down).
/// </summary>
public sealed record LawTerms(string Name, string Form, IReadOnlyList<string> ParameterNames, RefitCost Cost,
    LawQuantity Quantity = LawQuantity.Loss, IReadOnlyList<ExponentBound>? Exponents = null, IReadOnlyList<string>? PositiveCoefficients = null);

/// <summary>
/// A law, in one place: its name, form and parameters; which fits it makes over a study's trials (and from what
/// evidence); its value at a point; what counts as observing it; what credibility holds it to; how costly it is to
/// refit. Everything else (the reactor, credibility, comparison, charts, belief history, audit) asks the law through the
/// <see cref="LawRegistry"/> and switches on no law's name. A new law is a new file and one line in the registry.
/// </summary>
public abstract class Law(LawTerms terms)
{
    public string Name => terms.Name;
    public string Form => terms.Form;

    /// <summary>The fitted parameters, in the order the law writes them (a fit may carry others, such as its key's rate).</summary>
    public IReadOnlyList<string> ParameterNames => terms.ParameterNames;

    public int ParameterCount => ParameterNames.Count;

    public LawQuantity Quantity => terms.Quantity;

    public RefitCost Cost => terms.Cost;

    /// <summary>Whether its fits are about widths (not the Chinchilla law, whose sizes are parameters and tokens).</summary>
    public virtual bool PredictsWidths => true;

    /// <summary>What the law's size axis is called.</summary>
    public virtual string SizeName => "width";

    /// <summary>The exponents credibility holds to a plausible range.</summary>
    public IReadOnlyList<ExponentBound> Exponents => terms.Exponents ?? [];

    /// <summary>The coefficients that must be positive, whose bootstrap interval credibility requires to pin them down.</summary>
    public IReadOnlyList<string> PositiveCoefficients => terms.PositiveCoefficients ?? [];

    /// <summary>The fits this law would make over <paramref name="trials"/>, one per key, each with its evidence.</summary>
    public abstract IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options);

    /// <summary>The law's value at <paramref name="point"/> from fitted parameters; null where it has none.</summary>
    public abstract double? Evaluate(IReadOnlyDictionary<string, double> parameters, LawPoint point);

    /// <summary>
    /// The observation of this law's <paramref name="key"/> at <paramref name="point"/> from the trials planned at that
    /// width, or null while it is not observed (yet).
    /// </summary>
    public abstract Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, LawPoint point);

    /// <summary>
    /// The learning rate a claim of <paramref name="fit"/> at <paramref name="point"/> is about, shown with it: the point's
    /// rate, or the key's, or (for a claim at the best rate) the best rate as a law puts it there.
    /// </summary>
    public virtual double? LearningRateAt(LawFitted fit, LawPoint point, LawFitted? optimalLr) => point.LearningRate;

    /// <summary>
    /// The law this one is a curved alternative to (it is compared with it out of sample, and shown when that law bends);
    /// null for a law of its own.
    /// </summary>
    public virtual string? AlternativeTo => null;

    /// <summary>
    /// From fitter 3.1.0, the standard deviation in ln of one observation of this law at a width, as a fit's
    /// <paramref name="evidence"/> (its trials) shows it: the noise a new width's own observation carries whatever the law's form, the floor
    /// of a claim's interval (see <see cref="PredictionIntervals"/>). By default the spread of ln(final loss) between the
    /// seeds of a (width, rate) cell, pooled over the cells with two or more, divided by the seeds a cell's mean averages;
    /// null where no cell has two seeds.
    /// </summary>
    public virtual double? ObservationSpread(IReadOnlyList<TrialView> evidence) => ObservationNoise.OfCellMeans(evidence);

    /// <summary>The best learning rate at <paramref name="width"/> where the law says one; null otherwise.</summary>
    public virtual double? OptimalRateAt(IReadOnlyDictionary<string, double> parameters, double width) => null;

    /// <summary>
    /// A fit of this law before it is recorded: a <see cref="LawFitted"/> without its study, id, evidence sequence, fitter
    /// version and time, which <see cref="LawEngine.ToEvent"/> stamps. A fit's fields are declared once, in the event; the
    /// optional ones (intervals, bootstrap counts, starts, predictions, out-of-sample misses) are set with <c>with</c>.
    /// </summary>
    public LawFitted Fitted(string key, IReadOnlyDictionary<string, double> parameters, string? message, double? rSquared,
        IReadOnlyList<FitPoint> points, IReadOnlyList<Guid> evidence, string method) =>
        new(Guid.Empty, Guid.Empty, Name, key, Form, parameters, true, message, rSquared, points, evidence, 0, method, "", default);

    /// <summary>A fit of this law that did not converge (no parameters), saying why in <paramref name="message"/>.</summary>
    public LawFitted NotFitted(string key, string? message, IReadOnlyList<FitPoint> points, IReadOnlyList<Guid> evidence, string method) =>
        Fitted(key, new Dictionary<string, double>(), message, null, points, evidence, method) with { Converged = false };

    /// <summary>The curves of a fit against width (at a fixed rate, or at the best rate), for charts.</summary>
    public virtual IEnumerable<LawCurve> Curves(LawFitted fit) =>
        PredictsWidths && Quantity == LawQuantity.Loss ? [new LawCurve(Name, null, null, h => Evaluate(fit.Parameters, new LawPoint(h)))] : [];
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// <c>L(N, D) = E + A/N^alpha + B/D^beta</c> over the runs that have both a parameter count and tokens (imported runs),
/// fitted the replication's way (see <see cref="ChinchillaFitter"/>). Its sizes are N and D, not a width: it issues no
/// prediction at a width. Credibility holds alpha and beta to (0, 3]: published parameter and data exponents are about 0.05
/// to 1.
/// </summary>
public sealed class ChinchillaStudyLaw() : Law(new LawTerms(LawName, ChinchillaFitter.Form, ["E", "A", "B", "alpha", "beta"], RefitCost.Slow,
    Exponents:
    [
        new ExponentBound("alpha", "exponent", "model-size scaling", 0, false, PowerLawFitter.MaxExponent),
        new ExponentBound("beta", "exponent", "data scaling", 0, false, PowerLawFitter.MaxExponent),
    ],
    PositiveCoefficients: ["A", "B"]))
{
    public const string LawName = "chinchilla";

    public override bool PredictsWidths => false;
    public override string SizeName => "parameters";

    /// <summary>
    /// The starts of the Chinchilla fit in a study: 675 of the replication's 5,400 (alpha, beta in {0, 0.5, 1, 1.5, 2},
    /// e in {-1, 0, 1}, a, b in {0, 10, 20}); on the replication's data every start that converges reaches the same optimum.
    /// </summary>
    public static IReadOnlyList<double[]> Starts { get; } =
        ChinchillaFitter.Grid([0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2], [-1, 0, 1], [0, 10, 20], [0, 10, 20]);

    /// <summary>The Chinchilla law needs a parameter count and tokens, not a width.</summary>
    public override double? Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) => null;

    public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, LawPoint point) => null;

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options)
    {
        var runs = Runs(trials);
        if (runs.Count == 0) yield break;
        yield return new LawCandidate(Name, LawKeys.All, runs.Select(t => t.TrialId).ToList(),
            runs.Select(t => new FitPoint(t.Params!.Value, t.FinalEvalLoss!.Value, t.Tokens)).ToList(), () => Fit(runs, options));
    }

    /// <summary>The imported runs with a parameter count, tokens and a finite loss, in import order.</summary>
    public static IReadOnlyList<TrialView> Runs(IEnumerable<TrialView> trials) =>
        trials.Where(t => t.Params is > 0 && t.Tokens is > 0 && t.FinalEvalLoss is { } l && l > 0 && double.IsFinite(l))
            .OrderBy(t => t.Order).ToList();

    private LawFitted Fit(IReadOnlyList<TrialView> runs, FitOptions options)
    {
        var fit = ChinchillaFitter.Fit(runs.Select(t => t.Params!.Value).ToList(), runs.Select(t => t.Tokens!.Value).ToList(),
            runs.Select(t => t.FinalEvalLoss!.Value).ToList(), new ChinchillaOptions(Starts, options.BootstrapOrDefault, options.Optimiser));
        var points = runs.Select(t => new FitPoint(t.Params!.Value, t.FinalEvalLoss!.Value, t.Tokens)).ToList();
        var evidence = runs.Select(t => t.TrialId).ToList();
        var made = fit.Converged
            ? Fitted(LawKeys.All, fit.Parameters, fit.Message, fit.RSquared, points, evidence, fit.Method) with
            {
                Intervals = fit.Intervals,
                BootstrapSeed = fit.BootstrapSeed,
                BootstrapResamples = fit.BootstrapResamples,
                BootstrapConverged = fit.BootstrapConverged,
            }
            : NotFitted(LawKeys.All, fit.Message, points, evidence, fit.Method);
        return made with { StartsConverged = fit.StartsConverged, StartsTried = fit.StartsTried };
    }
}

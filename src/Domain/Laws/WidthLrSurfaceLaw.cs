using MathNet.Numerics;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// <c>L(h, lr) = E + A h^-alpha + C (ln lr - (c + d ln h))^2</c>: the loss near each width's valley of learning rates, as one
/// law of width and rate together. Its floor <c>E + A h^-alpha</c> is the tuned frontier, its valley <c>ln lr* = c + d ln h</c>
/// is the optimal-LR line, and its penalty says what a fixed rate costs at a wider width, where the valley has moved away
/// from it: Metz's point in one law.
/// <para>
/// Evidence: every fully ended width whose optimum is bracketed (as for the frontier and optimal-LR laws: a best rate at the
/// grid's edge, or a hole beside it, leaves the width out), and there the window of its best grid rate and the rate on
/// each side (the three points the optimum's refinement uses; further from the valley a loss is not quadratic in ln lr:
/// it saturates, or diverges). A point is a cell's mean final eval loss over its completed seeds (a diverged cell is no
/// point). Needs four such widths and more points than its six parameters.
/// </para>
/// <para>
/// Fit: Huber loss (delta 1e-3) on the residuals of ln L, with E, A and C kept positive (fitted as logarithms), L-BFGS from
/// a grid of starts built from the data (the optimal-LR line through the refined optima; the median curvature of the
/// valleys; the power-law starts over the valleys' floors), best converged kept. Bootstrap: seeds resampled within each
/// cell of the window (or, with a single seed somewhere, the cells), each resample refitted from the full fit.
/// </para>
/// <para>
/// Claims: at each width predicted, the valley's floor (at the best rate, <see cref="LawPoint.LearningRate"/> null), observed
/// as the refined optimum's loss there; and the loss at each rate of the study's grid that lies no further from the
/// predicted valley than the rates it was fitted on (its window's reach), observed as that cell's mean.
/// </para>
/// </summary>
public sealed class WidthLrSurfaceLaw() : Law(new LawTerms(LawName, "L(h, lr) = E + A h^-alpha + C (ln lr - (c + d ln h))^2",
    ["E", "A", "alpha", "C", "c", "d"], RefitCost.Slow,
    Exponents: [WidthPowerLaw.WidthExponent, new ExponentBound("d", "valley slope", "width scaling of the best learning rate", -2, true, 1)],
    PositiveCoefficients: ["A", "C"]))
{
    public const string LawName = "width-lr-surface";

    /// <summary>ln lr* at <paramref name="width"/>: the bottom of the valley.</summary>
    private static double Valley(IReadOnlyDictionary<string, double> p, double width) => p["c"] + p["d"] * Math.Log(width);

    public override double? Evaluate(IReadOnlyDictionary<string, double> p, LawPoint point) =>
        Value(p["E"], p["A"], p["alpha"], p["C"], p["c"], p["d"], point);

    private static double Value(double e, double a, double alpha, double c2, double c, double d, LawPoint point)
    {
        var floor = e + a * Math.Pow(point.Width, -alpha);
        if (point.LearningRate is not { } lr) return floor;
        var q = Math.Log(lr) - (c + d * Math.Log(point.Width));
        return floor + c2 * q * q;
    }

    public override double? OptimalRateAt(IReadOnlyDictionary<string, double> p, double width) => Math.Exp(Valley(p, width));

    /// <summary>A claim at the best rate names the rate the surface puts there; a claim at a rate names that rate.</summary>
    public override double? LearningRateAt(LawFitted fit, LawPoint point, LawFitted? optimalLr) =>
        point.LearningRate ?? OptimalRateAt(fit.Parameters, point.Width);

    public override Observation? Observe(IReadOnlyList<TrialView> atWidth, string key, LawPoint point)
    {
        if (point.LearningRate is { } rate) return Observation.OfCell(atWidth.Where(t => t.LearningRate == rate).ToList());
        if (atWidth.Count == 0 || atWidth.Any(t => !t.IsTerminal)) return null;
        var analysis = OptimalLearningRate.Analyse(atWidth);
        if (analysis.Optima.SingleOrDefault() is { } optimum) return new Observation(optimum.RefinedLoss, optimum.EvidenceTrialIds);
        return analysis.Censored.SingleOrDefault() is { } bound ? OptimumLaw.CensoredLoss(bound) : null;
    }

    /// <summary>The floor (at the best rate) and, for each rate the fit saw, the loss at that rate where the fit's window reaches.</summary>
    public override IEnumerable<LawCurve> Curves(LawFitted fit)
    {
        var p = fit.Parameters;
        yield return new LawCurve("surface at the best rate", null, null, h => Evaluate(p, new LawPoint(h)));
        var reach = Reach(fit.Points, p);
        foreach (var rate in fit.Points.Select(x => x.Z).OfType<double>().Distinct().Order())
            yield return new LawCurve($"surface lr {Numbers.Format(rate)}", rate, rate,
                h => Math.Abs(Math.Log(rate) - Valley(p, h)) <= reach ? Evaluate(p, new LawPoint(h, rate)) : null);
    }

    /// <summary>How far from the valley (in ln lr) the fitted points lie at most: the claims at a rate stay within it.</summary>
    private static double Reach(IEnumerable<FitPoint> points, IReadOnlyDictionary<string, double> p) =>
        points.Where(x => x.Z is > 0).Select(x => Math.Abs(Math.Log(x.Z!.Value) - Valley(p, x.X))).DefaultIfEmpty(0).Max() * (1 + 1e-9);

    public override IEnumerable<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, FitOptions options)
    {
        var sized = trials.Where(t => t.Width >= 1 && t.LearningRate > 0).ToList();
        if (sized.Count == 0) yield break;
        var window = Window.Of(sized, options);
        if (window.Widths < MinimumWidths || window.Cells.Count <= ParameterCount) yield break;
        yield return new LawCandidate(Name, LawKeys.All, window.Evidence, window.Points,
            () => Fit(window, sized.Select(t => t.LearningRate).Distinct().Order().ToList(), options));
    }

    /// <summary>The floor's three parameters need four widths, as the frontier's power law does.</summary>
    private const int MinimumWidths = PowerLawFitter.ParameterCount + 1;

    /// <summary>One cell of the window: its width, rate, the losses of its completed seeds (by seed) and their trials.</summary>
    private sealed record Cell(int Width, double Rate, double[] Losses, IReadOnlyList<Guid> Trials)
    {
        public double Mean => Losses.Average();
    }

    /// <summary>The cells near each bracketed width's valley.</summary>
    private sealed record Window(IReadOnlyList<Cell> Cells, IReadOnlyList<WidthOptimum> Optima, string? Message)
    {
        public int Widths => Cells.Select(c => c.Width).Distinct().Count();
        public IReadOnlyList<Guid> Evidence => Cells.SelectMany(c => c.Trials).ToList();
        public IReadOnlyList<FitPoint> Points => Cells.Select(c => new FitPoint(c.Width, c.Mean, c.Rate)).ToList();

        public static Window Of(IReadOnlyList<TrialView> trials, FitOptions options)
        {
            var analysis = OptimumLaw.Optima(trials, options);
            var cells = new List<Cell>();
            var diverged = 0;
            foreach (var optimum in analysis.Optima)
            {
                var atWidth = trials.Where(t => t.Width == optimum.Width).ToList();
                var rates = atWidth.Select(t => t.LearningRate).Distinct().Order().ToList();
                var best = rates.IndexOf(optimum.LearningRate);
                foreach (var rate in rates.Where((_, i) => Math.Abs(i - best) <= 1))
                {
                    var cell = atWidth.Where(t => t.LearningRate == rate).ToList();
                    var completed = cell.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && l > 0 && double.IsFinite(l))
                        .OrderBy(t => t.Seed).ToList();
                    if (cell.Any(t => t.Status == TrialStatus.Diverged) || completed.Count == 0)
                    {
                        diverged += cell.Any(t => t.Status == TrialStatus.Diverged) ? 1 : 0;
                        continue;
                    }
                    cells.Add(new Cell(optimum.Width, rate, completed.Select(t => t.FinalEvalLoss!.Value).ToArray(),
                        completed.Select(t => t.TrialId).ToList()));
                }
            }
            var message = LawFitting.Join(diverged > 0 ? $"{diverged} cell(s) beside a valley diverged: not points of the surface." : null, analysis.Message);
            return new Window(cells, analysis.Optima, message);
        }
    }

    private LawFitted Fit(Window window, IReadOnlyList<double> gridRates, FitOptions options)
    {
        var cells = window.Cells;
        var points = window.Points;
        var evidence = window.Evidence;
        var optimiser = options.OptimiserOrDefault;
        var lnH = cells.Select(c => Math.Log(c.Width)).ToArray();
        var lnLr = cells.Select(c => Math.Log(c.Rate)).ToArray();
        var means = cells.Select(c => c.Mean).ToArray();
        var problem = new Problem(lnH, lnLr, optimiser.HuberDelta);
        var starts = Starts(window, problem).ToList();
        var runs = starts.Select(s => problem.Minimise(means, null, s, optimiser)).ToList();
        var converged = runs.Count(r => r is not null);
        var bestRun = runs.Where(r => r is not null).OrderBy(r => r!.Value.Value).FirstOrDefault();
        if (bestRun is not { } best)
            return NotFitted(LawKeys.All, LawFitting.Join(window.Message, $"Did not converge: L-BFGS from none of {starts.Count} start(s)."),
                points, evidence, "huber-lbfgs") with
            {
                StartsConverged = 0,
                StartsTried = starts.Count,
            };
        var estimate = best.Parameters;
        var bySeed = cells.All(c => c.Losses.Length >= 2);
        var boot = Bootstrap.Run(options.BootstrapOrDefault, (_, random) =>
        {
            double[] y;
            double[]? weights = null;
            if (bySeed) y = cells.Select(c => Bootstrap.ResampledMean(c.Losses, random)).ToArray();
            else
            {
                y = means;
                weights = Bootstrap.PointWeights(cells.Count, random);
            }
            return problem.Minimise(y, weights, best.Theta, optimiser) is { } refit ? refit.Parameters : null;
        });
        var predicted = cells.Select(c => Value(estimate[0], estimate[1], estimate[2], estimate[3], estimate[4], estimate[5],
            new LawPoint(c.Width, c.Rate))).ToArray();
        double? r2 = means.Distinct().Count() < 2 ? 1.0 : GoodnessOfFit.CoefficientOfDetermination(predicted, means);
        if (!double.IsFinite(r2.Value)) r2 = null;
        var parameters = ParameterNames.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => estimate[x.i]);
        var fit = Fitted(LawKeys.All, parameters, LawFitting.Join(window.Message, LawFitting.BootstrapMessage(boot)), r2,
            points, evidence, "huber-lbfgs+" + (bySeed ? LawFitting.SeedsMethod : LawFitting.PointsMethod)) with
        {
            StartsConverged = converged,
            StartsTried = starts.Count,
        };
        // Claims at the floor of every width predicted, and at each grid rate within the window's reach of the valley there.
        var reach = Reach(points, parameters);
        var at = LawFitting.Widths(options).SelectMany(w => gridRates
            .Where(r => Math.Abs(Math.Log(r) - Valley(parameters, w.Width)) <= reach)
            .Select(r => new LawPoint(w.Width, r)).Prepend(w));
        return LawFitting.WithUncertainty(fit, boot, ParameterNames, estimate,
            (p, point) => Value(p[0], p[1], p[2], p[3], p[4], p[5], point), at);
    }

    /// <summary>
    /// Starts from the data: the optimal-LR line through the windows' refined optima, the median curvature of the valleys
    /// (the parabolas' leading coefficients), and for the floor the power law's start grid over the valleys' floors.
    /// </summary>
    private static IEnumerable<double[]> Starts(Window window, Problem problem)
    {
        var optima = window.Optima.Where(o => window.Cells.Any(c => c.Width == o.Width)).ToList();
        var line = optima.Select(o => o.Width).Distinct().Count() >= 2
            ? LineFitter.FitLogLog(optima.Select(o => (double)o.Width).ToList(), optima.Select(o => o.RefinedLearningRate).ToList())
            : null;
        var (c, d) = line is null ? (window.Cells.Average(x => Math.Log(x.Rate)), 0.0) : (line.Intercept, line.Slope);
        var curvatures = window.Cells.GroupBy(x => x.Width).Where(g => g.Count() == 3).Select(g =>
        {
            var three = g.OrderBy(x => x.Rate).ToList();
            double x0 = Math.Log(three[0].Rate), x1 = Math.Log(three[1].Rate), x2 = Math.Log(three[2].Rate);
            return ((three[2].Mean - three[1].Mean) / (x2 - x1) - (three[1].Mean - three[0].Mean) / (x1 - x0)) / (x2 - x0);
        }).Where(k => k > 0 && double.IsFinite(k)).Order().ToList();
        var floors = window.Cells.GroupBy(x => x.Width).OrderBy(g => g.Key).Select(g => g.Min(x => x.Mean)).ToArray();
        var curvature = curvatures.Count > 0 ? curvatures[curvatures.Count / 2] : 0.05 * floors.Min();
        var lnWidths = window.Cells.Select(x => x.Width).Distinct().Order().Select(w => Math.Log(w)).ToArray();
        foreach (var power in PowerLawFitter.Starts(lnWidths, floors))
            yield return problem.Centred([power[0], power[1], power[2], Math.Log(curvature), c, d]);
    }

    /// <summary>
    /// The Huber objective on ln L over the window's points, in centred coordinates (ln h and ln lr minus their means) for
    /// conditioning: theta = [a', alpha, e, k, c', d] with A = e^(a' + alpha mean ln h), E = e^e, C = e^k and
    /// c = c' - d mean(ln h) + mean(ln lr).
    /// </summary>
    private sealed class Problem(double[] lnH, double[] lnLr, double delta)
    {
        private readonly double hBar = lnH.Average(), lrBar = lnLr.Average();
        private readonly double[] u = lnH.Select(v => v - lnH.Average()).ToArray();
        private readonly double[] v = lnLr.Select(x => x - lnLr.Average()).ToArray();

        /// <summary>Centred coordinates of parameters <c>[ln A, alpha, ln E, ln C, c, d]</c>.</summary>
        public double[] Centred(double[] p) => [p[0] - p[1] * hBar, p[1], p[2], p[3], p[4] + p[5] * hBar - lrBar, p[5]];

        /// <summary><c>[E, A, alpha, C, c, d]</c> from centred coordinates.</summary>
        private double[] Parameters(double[] t) =>
            [Math.Exp(t[2]), Math.Exp(t[0] + t[1] * hBar), t[1], Math.Exp(t[3]), t[4] - t[5] * hBar + lrBar, t[5]];

        public (double[] Theta, double[] Parameters, double Value)? Minimise(double[] y, double[]? weights, double[] start, OptimiserOptions options)
        {
            var lnY = y.Select(v => Math.Log(v)).ToArray();
            var (theta, value, _) = HuberLogSumExp.Lbfgs((t, g) => Objective(t, lnY, weights, g), start, options);
            if (theta is null) return null;
            var parameters = Parameters(theta);
            return parameters.All(double.IsFinite) ? (theta, parameters, value) : null;
        }

        private double Objective(double[] t, double[] lnY, double[]? weights, double[] gradient)
        {
            Array.Clear(gradient);
            var (bigE, bigC) = (Math.Exp(t[2]), Math.Exp(t[3]));
            var total = 0.0;
            for (var i = 0; i < lnY.Length; i++)
            {
                var w = weights is null ? 1.0 : weights[i];
                if (w == 0) continue;
                var power = Math.Exp(t[0] - t[1] * u[i]);
                var q = v[i] - t[4] - t[5] * u[i];
                var model = bigE + power + bigC * q * q;
                var r = Math.Log(model) - lnY[i];
                if (!double.IsFinite(r)) return double.PositiveInfinity;
                total += w * HuberLogSumExp.Huber(r, delta, out var psi);
                var scale = w * psi / model;
                gradient[0] += scale * power;
                gradient[1] -= scale * power * u[i];
                gradient[2] += scale * bigE;
                gradient[3] += scale * bigC * q * q;
                gradient[4] -= scale * 2 * bigC * q;
                gradient[5] -= scale * 2 * bigC * q * u[i];
            }
            return total;
        }
    }
}

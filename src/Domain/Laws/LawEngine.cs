using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>
/// Fits the laws of the registry over a study's trials: which fits each law would make, which of them the evidence has
/// changed, and the event a fit becomes. Deterministic: the same trials (and options) give the same fits, bootstrap
/// intervals included. The laws themselves live in their own files (see <see cref="Law"/>).
/// </summary>
public static class LawEngine
{
    /// <summary>Changes whenever a fit of the same evidence could give different numbers.</summary>
    public const string FitterVersion = "3.1.0";

    /// <summary>
    /// The fitter versions whose method this ledger still runs, so that an audit re-derives a fit the way it was made:
    /// 2.0.0 (holes absorbed, bootstrap resamples retried from the whole start grid), 2.1.0 (optima at the grid's edge
    /// kept), 2.2.0 (the bootstrap's intervals promised as the predictions'), 3.0.0 (calibrated prediction intervals) and
    /// 3.1.0 (calibrated intervals with a floor for the observation's noise, t counted by independent misses).
    /// </summary>
    public static readonly IReadOnlyList<string> SupportedFitterVersions = ["2.0.0", "2.1.0", "2.2.0", "3.0.0", FitterVersion];

    /// <summary>Every law's fits over these trials, each with bootstrap intervals and predictions (by default at the study's widths
    /// and target widths).</summary>
    public static IReadOnlyList<LawFitted> FitAll(IReadOnlyList<TrialView> trials, StudySpec? spec, FitOptions? options = null) =>
        Candidates(trials, spec, options).Select(c => c.Fit()).ToList();

    /// <summary>What every law would fit over these trials, with its evidence, before any fitting is done.</summary>
    public static IReadOnlyList<LawCandidate> Candidates(IReadOnlyList<TrialView> trials, StudySpec? spec, FitOptions? options = null)
    {
        options = WithDefaultWidths(trials, spec, options);
        return options.Registry.All.SelectMany(law => Calibrated(law, law.Candidates(trials, options), trials, options)).ToList();
    }

    /// <summary>
    /// The candidates whose fit, from fitter 3.0.0, also measures how the law missed the widths it had not seen and calibrates
    /// its claims' intervals with that (see <see cref="PredictionIntervals"/>). Every law is checked the same way, through its
    /// own candidates and observations.
    /// </summary>
    private static IEnumerable<LawCandidate> Calibrated(Law law, IEnumerable<LawCandidate> candidates, IReadOnlyList<TrialView> trials, FitOptions options) =>
        !options.Calibrates ? candidates : candidates.Select(c => c with
        {
            Fit = () =>
            {
                var fit = c.Fit();
                if (!fit.Converged || !law.PredictsWidths) return fit;
                var residuals = OutOfSample.Residuals(law, c.Key, fit.Points, trials, options);
                var floor = options.FloorsIntervals ? Floor(law, trials, fit.EvidenceTrialIds) : null;
                var calibrated = PredictionIntervals.Calibrate(fit, residuals, law.ParameterCount, p => law.Evaluate(fit.Parameters, p),
                    fit.Method.Contains(LawFitting.SeedsMethod, StringComparison.Ordinal) ? FewestSeeds(trials, fit.EvidenceTrialIds) : null,
                    floor);
                return calibrated with { OutOfSample = residuals, Method = fit.Method + "+calibrated" };
            },
        });

    /// <summary>The law's observation spread over the fit's evidence (a law over optima has whole widths as its evidence).</summary>
    private static PredictionIntervals.Floor Floor(Law law, IReadOnlyList<TrialView> trials, IReadOnlyList<Guid> evidence)
    {
        var ids = evidence.ToHashSet();
        return new PredictionIntervals.Floor(law.ObservationSpread(trials.Where(t => ids.Contains(t.TrialId)).ToList()));
    }

    /// <summary>The fewest completed seeds of a (width, rate) cell among the evidence.</summary>
    private static int? FewestSeeds(IReadOnlyList<TrialView> trials, IReadOnlyList<Guid> evidence)
    {
        var ids = evidence.ToHashSet();
        var cells = trials.Where(t => ids.Contains(t.TrialId) && t.Status == TrialStatus.Completed).GroupBy(t => (t.Width, t.LearningRate)).ToList();
        return cells.Count == 0 ? null : cells.Min(g => g.Count());
    }

    /// <summary>
    /// The fits whose evidence, points or fitter version differ from the latest recorded fit of the same law and key,
    /// and only those are fitted: refitting the same evidence records nothing, and an ended trial refits only the laws
    /// its result enters.
    /// </summary>
    public static IReadOnlyList<LawFitted> NewFits(IReadOnlyList<TrialView> trials, StudySpec? spec, IReadOnlyList<LawFitted> latest,
        FitOptions? options = null, Func<Law, bool>? laws = null) =>
        Pending(trials, spec, latest, options, laws).Select(c => c.Fit()).ToList();

    /// <summary>The candidates (of <paramref name="laws"/>, or all) whose latest recorded fit is not of their evidence: nothing is fitted.</summary>
    public static IReadOnlyList<LawCandidate> Pending(IReadOnlyList<TrialView> trials, StudySpec? spec, IReadOnlyList<LawFitted> latest,
        FitOptions? options = null, Func<Law, bool>? laws = null)
    {
        var registry = (options ?? new FitOptions()).Registry;
        return Candidates(trials, spec, options)
            .Where(c => laws is null || registry.Find(c.Law) is not { } law || laws(law))
            .Where(c =>
            {
                var last = latest.FirstOrDefault(l => l.Law == c.Law && l.Key == c.Key);
                return last is null || last.FitterVersion != FitterVersion
                    || !last.EvidenceTrialIds.Order().SequenceEqual(c.Evidence.Order())
                    || !last.Points.SequenceEqual(c.Points);
            }).ToList();
    }

    /// <summary>One law's fit for one key over these trials (an audit re-derives just the fit it audits), or null.</summary>
    public static LawFitted? Fit(IReadOnlyList<TrialView> trials, StudySpec? spec, string law, string key, FitOptions? options = null)
    {
        options = WithDefaultWidths(trials, spec, options);
        return options.Registry.Find(law) is { } found
            ? Calibrated(found, found.Candidates(trials, options), trials, options).FirstOrDefault(c => c.Key == key)?.Fit()
            : null;
    }

    /// <summary>
    /// The event a fit becomes: the one place a <see cref="LawFitted"/> is built. The first fit of a law and key lists its
    /// whole evidence; a later one names the fit it follows (<paramref name="previous"/>, the newest recorded fit of the same
    /// law and key, with its whole evidence) and only the trials added and removed since, so no trial is named twice per
    /// law and key.
    /// </summary>
    public static LawFitted ToEvent(Guid studyId, LawFitted f, Guid fitId, long evidenceSequence, DateTimeOffset now, LawFitted? previous = null)
    {
        var whole = f with
        {
            StudyId = studyId,
            FitId = fitId,
            EvidenceSequence = evidenceSequence,
            FitterVersion = FitterVersion,
            FittedAt = now,
            EvidenceCount = f.EvidenceTrialIds.Count,
        };
        if (previous is null) return whole;
        var before = previous.EvidenceTrialIds.ToHashSet();
        var after = f.EvidenceTrialIds.ToHashSet();
        return whole with
        {
            EvidenceTrialIds = [],
            BasedOnFitId = previous.FitId,
            EvidenceAdded = f.EvidenceTrialIds.Where(id => !before.Contains(id)).ToList(),
            EvidenceRemoved = previous.EvidenceTrialIds.Where(id => !after.Contains(id)).ToList(),
        };
    }

    private static FitOptions WithDefaultWidths(IReadOnlyList<TrialView> trials, StudySpec? spec, FitOptions? options)
    {
        options ??= new FitOptions();
        return options.PredictAt is not null ? options : options with { PredictAt = DefaultWidths(trials, spec) };
    }

    /// <summary>Where fits claim by default: the study's widths and target widths (without a spec, its trials' widths).</summary>
    public static IReadOnlyList<double> DefaultWidths(IReadOnlyList<TrialView> trials, StudySpec? spec)
    {
        var widths = spec is not null
            ? (spec.Model?.Widths ?? []).Concat(spec.TargetWidths ?? [])
            : trials.Select(t => t.Width);
        return widths.Where(w => w > 0).Distinct().Order().Select(w => (double)w).ToList();
    }
}

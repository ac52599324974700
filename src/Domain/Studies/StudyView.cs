using System.Text.Json.Serialization;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Studies;

// The read side of a study is split into documents, each folded from the study's events by StudyProjection and kept in
// step with the ledger as events are appended. Each stays small or grows with one trial, never with the whole study, so
// recording a report costs the same at trial 10 as at trial 4,320:
//   StudySummaryView    one per study: identity, spec, status, times, counts
//   TrialView           one per trial: plan, status, attempts, provenance, checkpoints, result
//   StudyLawsView       one per study: the newest fit of each law and key, with its whole evidence
//   PredictionView      one per prediction: the claim and, once observed, its resolution
//   FitCredibilityView  one per fit: whether CredibilityRule believes it, and why not, judged once when it is recorded
//   CoordinateCheckView one per coordinate check
// StudyView is what the API and the pages show of a study: its summary and the rest of its documents, assembled in one
// place (Assemble), or as of an earlier event sequence from the same folds run over the events up to it.

/// <summary>
/// What the API and the pages show of one study: its summary (the same record, so its fields are declared once) with its
/// trials, newest fits, predictions, coordinate checks and the fits that are not credible.
/// </summary>
public sealed record StudyView : StudySummaryView
{
    [JsonConstructor]
    public StudyView() { }

    private StudyView(StudySummaryView summary) : base(summary) { }

    public List<TrialView> Trials { get; init; } = [];
    /// <summary>The newest fit of each (law, key).</summary>
    public List<LawFitted> LatestFits { get; init; } = [];
    /// <summary>Every prediction the study's fits issued, oldest first, with its resolution once observed.</summary>
    public List<PredictionView> Predictions { get; init; } = [];
    /// <summary>Coordinate checks run for this study's model, oldest first.</summary>
    public List<CoordinateCheckRecorded> CoordinateChecks { get; init; } = [];

    /// <summary>Coordinate checks that could not run, oldest first, with why.</summary>
    public List<CoordinateCheckView> FailedCoordinateChecks { get; init; } = [];

    /// <summary>The newest fits whose misses of widths they had not seen fall on one side: laws that bend.</summary>
    public List<LawBend> Bends { get; init; } = [];

    /// <summary>The study's fits that <see cref="CredibilityRule"/> does not believe, oldest first: their predictions are set aside.</summary>
    public List<FitCredibilityView> NotCredibleFits { get; init; } = [];

    /// <summary>
    /// Per law: of the last predictions issued before each point was observed, the share that fell inside their 95%
    /// intervals, over the predictions that are not set aside (a nonsense fit's claims say nothing of the laws' calibration).
    /// </summary>
    public IReadOnlyList<LawCalibration> Calibration => Claims.Calibration.LastBeforeObservation(CrediblePredictions);

    /// <summary>
    /// The newest fits whose claims carry no interval, by fit id, each with why (so no prediction was issued from them):
    /// what the study page and the API say instead of a silent absence.
    /// </summary>
    public IReadOnlyDictionary<Guid, string> NoIntervals => LatestFits
        .Select(f => (f.FitId, Why: PredictionIntervals.WhyNone(f))).Where(f => f.Why is not null).ToDictionary(f => f.FitId, f => f.Why!);

    /// <summary>The stored verdict on one of the study's fits: credible unless its credibility document says otherwise.</summary>
    public FitCredibility CredibilityOf(Guid fitId) =>
        NotCredibleFits.Find(f => f.Id == fitId) is { } fit ? new FitCredibility(false, fit.Reasons) : new FitCredibility(true, []);

    /// <summary>Why <paramref name="prediction"/> is set aside ("fit not credible: " and its fit's reasons), or null when its fit is credible.</summary>
    public string? SetAsideReason(PredictionView prediction) =>
        NotCredibleFits.Find(f => f.Id == prediction.Issued.FitId) is { } fit ? "fit not credible: " + string.Join("; ", fit.Reasons) : null;

    /// <summary>
    /// Whether a law is shown among the study's laws drawn: every law of its own, and a curved alternative only where the
    /// law it is an alternative to bends.
    /// </summary>
    public bool Shows(Law law) => law.AlternativeTo is not { } of || Bends.Any(b => b.Law == of);

    /// <summary>The newest converged fit of a law and key whose credibility was judged credible, or null (such a fit draws nothing).</summary>
    public LawFitted? CredibleFit(string law, string key) =>
        LatestFits.Find(f => f.Law == law && f.Key == key && f.Converged) is { } fit && CredibilityOf(fit.FitId).Credible ? fit : null;

    /// <summary>The predictions whose fit is credible, oldest first (<see cref="Predictions"/> holds them all).</summary>
    [JsonIgnore]
    public IEnumerable<PredictionView> CrediblePredictions
    {
        get
        {
            var setAside = NotCredibleFitIds();
            return Predictions.Where(p => !setAside.Contains(p.Issued.FitId));
        }
    }

    /// <summary>The predictions of fits that are not credible, oldest first.</summary>
    [JsonIgnore]
    public IEnumerable<PredictionView> SetAsidePredictions
    {
        get
        {
            var setAside = NotCredibleFitIds();
            return Predictions.Where(p => setAside.Contains(p.Issued.FitId));
        }
    }

    private HashSet<Guid> NotCredibleFitIds() => NotCredibleFits.Select(f => f.Id).ToHashSet();

    public TrialView? Trial(Guid trialId) => Trials.Find(t => t.TrialId == trialId);

    /// <summary>The study's view from its documents; its sequence is the newest any of them has seen.</summary>
    /// <param name="credibility">The study's fit credibility documents (only the not-credible ones are kept).</param>
    public static StudyView Assemble(StudySummaryView summary, IEnumerable<TrialView> trials, StudyLawsView? laws, IEnumerable<PredictionView> predictions,
        IEnumerable<FitCredibilityView>? credibility = null, IEnumerable<CoordinateCheckView>? checks = null)
    {
        var trialList = trials.OrderBy(t => t.Order).ToList();
        var predictionList = predictions.OrderBy(p => p.IssuedSequence).ToList();
        var checkList = (checks ?? []).OrderBy(c => c.Sequence).ToList();
        return new StudyView(summary)
        {
            Trials = trialList,
            LatestFits = laws?.LatestFits ?? [],
            Bends = laws?.Bends ?? [],
            Predictions = predictionList,
            CoordinateChecks = checkList.Select(c => c.Check).OfType<CoordinateCheckRecorded>().ToList(),
            FailedCoordinateChecks = checkList.Where(c => c.Status == CoordinateCheckStatus.Failed).ToList(),
            NotCredibleFits = (credibility ?? []).Where(f => !f.Credible).OrderBy(f => f.Sequence).ThenBy(f => f.Id).ToList(),
            LastSequence = new[] { summary.LastSequence, laws?.LastSequence ?? 0 }
                .Concat(trialList.Select(t => t.LastSequence)).Concat(predictionList.Select(p => p.LastSequence))
                .Concat(checkList.Select(c => c.Sequence)).Max(),
        };
    }
}

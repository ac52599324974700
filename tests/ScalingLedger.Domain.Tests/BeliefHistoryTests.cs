using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class BeliefHistoryTests
{
    private static readonly Guid Study = Guid.NewGuid();

    private static TrialView Trial(TrialStatus status, long? endedSequence) =>
        new() { TrialId = Guid.NewGuid(), StudyId = Study, Width = 32, LearningRate = 0.001, Status = status, EndedSequence = endedSequence };

    /// <summary>Trials ended at 2 (completed), 3 (diverged), 5 (failed: no evidence) and 7 (completed); one still scheduled.</summary>
    private static readonly TrialView[] Trials =
    [
        Trial(TrialStatus.Completed, 2), Trial(TrialStatus.Diverged, 3), Trial(TrialStatus.Failed, 5), Trial(TrialStatus.Completed, 7),
        Trial(TrialStatus.Scheduled, null),
    ];

    private static PredictionView Prediction(Guid fitId, long evidenceSequence, long issuedSequence, double width, string reason, double predicted,
        PredictionResolved? resolution = null)
    {
        var issued = new PredictionIssued(Study, Guid.NewGuid(), fitId, FixedLrPowerLaw.LawName, "lr=0.001", width, 0.001, predicted,
            predicted - 0.1, predicted + 0.1, reason, evidenceSequence, [], LawEngine.FitterVersion, StudyTestKit.Now);
        return new PredictionView { Id = issued.PredictionId, StudyId = Study, Issued = issued, IssuedSequence = issuedSequence, Resolution = resolution };
    }

    private static PredictionResolved Resolved(double? observed, long at) =>
        new(Study, Guid.NewGuid(), observed, null, null, true, null, [], at, StudyTestKit.Now);

    [Fact]
    public void each_points_credible_predictions_are_listed_in_issue_order_with_the_evidence_their_fit_saw_and_the_observation()
    {
        Guid first = Guid.NewGuid(), second = Guid.NewGuid(), nonsense = Guid.NewGuid(), old = Guid.NewGuid();
        var p1 = Prediction(first, evidenceSequence: 3, issuedSequence: 4, 2048, "target", 0.40);
        var bad = Prediction(nonsense, evidenceSequence: 5, issuedSequence: 6, 2048, "target", 6.06e55);
        var p2 = Prediction(second, evidenceSequence: 7, issuedSequence: 8, 2048, "target", 0.38);
        var p3 = Prediction(second, evidenceSequence: 7, issuedSequence: 8, 512, "planned", 0.45, Resolved(0.42, 9));
        // A fit recorded without an evidence sequence is placed at its prediction's own sequence (1: no trial ended yet).
        var early = Prediction(old, evidenceSequence: 0, issuedSequence: 1, 256, "planned", 0.5);

        var history = BeliefHistory.Build(Trials, [p2, bad, p3, early, p1], [], new HashSet<Guid> { nonsense });

        history.Predictions.Select(s => (s.Law, s.Key, s.Width, s.Reason, s.Observed, s.ObservedAtSequence, s.ObservedAtEvidence)).ShouldBe(
        [
            (FixedLrPowerLaw.LawName, "lr=0.001", 256.0, "planned", (double?)null, (long?)null, (int?)null),
            (FixedLrPowerLaw.LawName, "lr=0.001", 512.0, "planned", 0.42, 9L, 3),
            (FixedLrPowerLaw.LawName, "lr=0.001", 2048.0, "target", null, null, null),
        ]);
        history.Predictions[0].Points.ShouldBe([new BeliefPoint(0, 1, 0.5, 0.4, 0.6, early.Id)]);
        history.Predictions[1].Points.ShouldBe([new BeliefPoint(3, 8, 0.45, 0.45 - 0.1, 0.45 + 0.1, p3.Id)]);
        // The nonsense fit's claim (issued at 6, between the two) is left out.
        history.Predictions[2].Points.ShouldBe(
        [
            new BeliefPoint(2, 4, 0.40, 0.40 - 0.1, 0.40 + 0.1, p1.Id),
            new BeliefPoint(3, 8, 0.38, 0.38 - 0.1, 0.38 + 0.1, p2.Id),
        ]);
        history.OptimalLrSlope.ShouldBeEmpty();
    }

    [Fact]
    public void a_point_whose_trials_all_diverged_is_observed_without_a_value()
    {
        var p = Prediction(Guid.NewGuid(), 3, 4, 512, "planned", 0.45, Resolved(null, 7));
        var series = BeliefHistory.Build(Trials, [p], [], new HashSet<Guid>()).Predictions.Single();
        (series.Observed, series.ObservedAtSequence, series.ObservedAtEvidence).ShouldBe(((double?)null, (long?)7, (int?)3));
    }

    [Fact]
    public void the_optimal_lr_slope_is_listed_per_converged_fit_with_its_interval_and_credibility()
    {
        LawFitted OptimalLr(long evidenceSequence, double d, ParameterInterval? interval, bool converged = true) =>
            FitCredibilityTests.Good(OptimalLrLaw.LawName) with
            {
                StudyId = Study,
                EvidenceSequence = evidenceSequence,
                Converged = converged,
                Parameters = converged ? new Dictionary<string, double> { ["c"] = -2, ["d"] = d } : new Dictionary<string, double>(),
                Intervals = interval is null ? new Dictionary<string, ParameterInterval>() : new Dictionary<string, ParameterInterval> { ["d"] = interval },
            };
        var first = OptimalLr(3, -0.5, new ParameterInterval(-0.6, -0.4));
        var nonsense = OptimalLr(5, 5, new ParameterInterval(1, 9));
        var latest = OptimalLr(7, -0.45, null);
        var unconverged = OptimalLr(7, double.NaN, null, converged: false);
        var otherLaw = FitCredibilityTests.Good() with { StudyId = Study };

        var history = BeliefHistory.Build(Trials, [], [(latest, new RecordedSequence(8)), (unconverged, new RecordedSequence(9)),
            (nonsense, new RecordedSequence(6)), (first, new RecordedSequence(4)), (otherLaw, new RecordedSequence(5))],
            new HashSet<Guid> { nonsense.FitId });

        history.OptimalLrSlope.ShouldBe(
        [
            new SlopePoint(2, 4, -0.5, -0.6, -0.4, true),
            new SlopePoint(2, 6, 5, 1, 9, false),
            new SlopePoint(3, 8, -0.45, null, null, true),
        ]);
        history.Predictions.ShouldBeEmpty();
    }
}

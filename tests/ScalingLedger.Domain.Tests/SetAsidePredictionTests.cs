using System.Text.Json;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>Given a credible and a not-credible fit, each with predictions, when the study is folded or assembled, then...</summary>
public class SetAsidePredictionTests
{
    private static readonly DateTimeOffset Now = StudyTestKit.Now;

    private sealed record Story(
        List<(object Data, RecordedSequence Sequence)> Events, LawFitted Good, LawFitted Bad, PredictionIssued GoodTarget, PredictionIssued GoodPlanned,
        PredictionIssued BadTarget, PredictionIssued BadPlanned);

    /// <summary>
    /// A study; a credible fit (seq 2) and its two predictions (3, 4); the motivating nonsense fit (5) and its two (6, 7);
    /// width 512 observed: the credible fit's prediction there inside (8), the nonsense fit's outside (9).
    /// </summary>
    private static Story Given()
    {
        var kit = new StudyTestKit();
        var study = kit.StudyId;
        var good = FitCredibilityTests.Good() with { StudyId = study, Key = "lr=0.001" };
        var bad = FitCredibilityTests.Motivating() with { StudyId = study, Key = "lr=0.01" };
        PredictionIssued Issued(LawFitted fit, double width, double predicted, double lower, double upper, string reason) => new(
            study, Guid.NewGuid(), fit.FitId, fit.Law, fit.Key, width, LawKeys.RateOf(fit.Key), predicted, lower, upper, reason, 1, [],
            LawEngine.FitterVersion, Now);
        var goodTarget = Issued(good, 2048, 0.39, 0.38, 0.40, "target");
        var goodPlanned = Issued(good, 512, 0.42, 0.41, 0.43, "planned");
        var badTarget = Issued(bad, 2048, 6.06e55, 3.58e55, 7.35e55, "target");
        var badPlanned = Issued(bad, 512, 1.5e52, 1e52, 2e52, "planned");
        object[] events =
        [
            kit.Defined, good, goodTarget, goodPlanned, bad, badTarget, badPlanned,
            new PredictionResolved(study, goodPlanned.PredictionId, 0.415, -0.005, -0.98, true, null, [], 8, Now),
            new PredictionResolved(study, badPlanned.PredictionId, 2.3, 2.3 - 1.5e52, -5.9, false, null, [], 9, Now),
        ];
        return new Story(events.Select((e, i) => (e, new RecordedSequence(i + 1))).ToList(), good, bad, goodTarget, goodPlanned, badTarget, badPlanned);
    }

    [Fact]
    public void the_not_credible_fits_predictions_are_set_aside_with_its_reasons_and_left_out_of_calibration()
    {
        var story = Given();
        var view = StudyProjection.Fold(story.Events);

        view.Predictions.Count.ShouldBe(4);
        view.NotCredibleFits.Count.ShouldBe(1);
        var fit = view.NotCredibleFits[0];
        (fit.Id, fit.StudyId, fit.Law, fit.Key, fit.Sequence, fit.Credible)
            .ShouldBe((story.Bad.FitId, story.Bad.StudyId, FixedLrPowerLaw.LawName, "lr=0.01", 5L, false));
        fit.RuleVersion.ShouldBe(CredibilityRule.Version);

        PredictionView Of(PredictionIssued p) => view.Predictions.Single(v => v.Id == p.PredictionId);
        view.SetAsideReason(Of(story.GoodTarget)).ShouldBeNull();
        view.SetAsideReason(Of(story.GoodPlanned)).ShouldBeNull();
        view.SetAsideReason(Of(story.BadTarget)).ShouldBe("fit not credible: " + FitCredibilityTests.MotivatingReasons);
        view.SetAsideReason(Of(story.BadPlanned)).ShouldBe("fit not credible: " + FitCredibilityTests.MotivatingReasons);
        view.CrediblePredictions.Select(p => p.Id).ShouldBe([story.GoodTarget.PredictionId, story.GoodPlanned.PredictionId]);
        view.SetAsidePredictions.Select(p => p.Id).ShouldBe([story.BadTarget.PredictionId, story.BadPlanned.PredictionId]);

        // Two resolutions of the law, one inside and one outside: only the credible one counts.
        var calibration = view.Calibration.ShouldHaveSingleItem();
        (calibration.Law, calibration.Resolved, calibration.Inside, calibration.ShareInside).ShouldBe((FixedLrPowerLaw.LawName, 1, 1, 1.0));
        calibration.MeanAbsZ!.Value.ShouldBe(0.98, 1e-9);
    }

    [Fact]
    public void before_the_nonsense_fit_nothing_is_set_aside_and_a_credible_refit_does_not_bring_its_predictions_back()
    {
        var story = Given();
        var before = StudyProjection.Fold(story.Events.Where(e => e.Sequence <= new RecordedSequence(4)));
        before.NotCredibleFits.ShouldBeEmpty();
        before.SetAsidePredictions.ShouldBeEmpty();

        // The same law and key refitted credibly: the nonsense fit is no longer the latest, but its claims stay set aside.
        var refit = FitCredibilityTests.Good() with { StudyId = story.Bad.StudyId, Key = story.Bad.Key };
        var after = StudyProjection.Fold(story.Events.Append((refit, new RecordedSequence(10))));
        after.LatestFits.Single(f => f.Key == story.Bad.Key).FitId.ShouldBe(refit.FitId);
        after.NotCredibleFits.Select(f => f.Id).ShouldBe([story.Bad.FitId]);
        after.SetAsidePredictions.Count().ShouldBe(2);
    }

    [Fact]
    public void assembling_the_stored_documents_gives_the_same_view_as_the_fold()
    {
        var story = Given();
        var folded = StudyProjection.Fold(story.Events);

        // The documents the Server keeps, each folded by its own projection; credibility is stored for every fit.
        StudySummaryView? summary = null;
        var trials = new Dictionary<Guid, TrialView>();
        StudyLawsView? laws = null;
        var predictions = new Dictionary<Guid, PredictionView>();
        var credibility = new List<FitCredibilityView>();
        foreach (var (data, sequence) in story.Events)
        {
            summary = StudyProjection.ApplySummary(summary, data, sequence);
            foreach (var id in StudyProjection.TrialIdsOf(data))
                if (StudyProjection.ApplyTrial(trials.GetValueOrDefault(id), id, data, sequence) is { } t) trials[id] = t;
            if (data is LawFitted fit)
            {
                laws = StudyProjection.ApplyLaws(laws, summary.Id, data, sequence);
                credibility.Add(StudyProjection.ApplyFitCredibility(null, fit, sequence));
            }
            if (StudyProjection.PredictionIdOf(data) is { } pid && StudyProjection.ApplyPrediction(predictions.GetValueOrDefault(pid), data, sequence) is { } p)
                predictions[pid] = p;
        }
        credibility.Select(c => c.Credible).ShouldBe([true, false]);
        // The Server queries only the not-credible ones; Assemble keeps only those either way.
        var fromAll = StudyView.Assemble(summary!, trials.Values, laws, predictions.Values, credibility);
        var fromQuery = StudyView.Assemble(summary!, trials.Values, laws, predictions.Values, credibility.Where(c => !c.Credible));

        var json = JsonSerializer.Serialize(folded);
        JsonSerializer.Serialize(fromAll).ShouldBe(json);
        JsonSerializer.Serialize(fromQuery).ShouldBe(json);
        fromAll.Calibration.ShouldBe(folded.Calibration);
        // The API body lists the predictions once: the computed credible and set-aside lists are not serialized.
        json.ShouldContain("\"NotCredibleFits\":[{");
        json.ShouldNotContain("CrediblePredictions");
        json.ShouldNotContain("SetAsidePredictions");
        JsonSerializer.Deserialize<StudyView>(json)!.NotCredibleFits.Single().Reasons.ShouldBe(folded.NotCredibleFits.Single().Reasons);
    }

    [Fact]
    public void a_view_assembled_without_credibility_documents_sets_nothing_aside()
    {
        var story = Given();
        var folded = StudyProjection.Fold(story.Events);
        var summary = new StudySummaryView { Id = folded.Id };
        var view = StudyView.Assemble(summary, [], null, folded.Predictions);
        view.NotCredibleFits.ShouldBeEmpty();
        view.CrediblePredictions.Count().ShouldBe(4);
        view.Calibration.Single().Resolved.ShouldBe(2);
    }
}

using System.Text.Json;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// Every report about a trial is one (<see cref="ITrialReport"/>), and the trial's document folds each: a new report type
/// fails here until its trial folds it (the projections' type lists derive from the same vocabulary).
/// </summary>
public class ReportVocabularyTests
{
    private static readonly Guid Study = Guid.NewGuid();
    private static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>One report of each type, about <paramref name="trial"/> of <paramref name="study"/>.</summary>
    private static IReadOnlyList<ITrialReport> Samples(Guid trial, Guid? study = null) => Samples(trial, study ?? Study);

    private static IReadOnlyList<ITrialReport> Samples(Guid trial, Guid Study) =>
    [
        new TrialStarted(Study, trial, 1, "w", "h", 2, "0.107", At),
        new LossCheckpointRecorded(Study, trial, 10, 1.0, 1.1, 0.5, At),
        new TrialCompleted(Study, trial, 0.4, 0.9, 1000, 2.0, At),
        new TrialDiverged(Study, trial, 10, "nan", At),
        new TrialFailed(Study, trial, "boom", At, 3, "detail"),
        new TrialAttemptFailed(Study, trial, 1, "boom", "detail", At),
        new TrialCancelled(Study, trial, 10, At),
    ];

    private static IEnumerable<Type> ReportTypes() => typeof(ITrialReport).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ITrialReport).IsAssignableFrom(t));

    [Fact]
    public void every_report_type_of_the_contracts_has_a_sample_here() =>
        Samples(Guid.NewGuid()).Select(r => r.GetType()).ShouldBe(ReportTypes(), ignoreOrder: true);

    [Fact]
    public void the_trial_document_folds_every_report_type()
    {
        var kit = new StudyTestKit();
        var planned = kit.Defined.Trials[0];
        foreach (var report in Samples(planned.TrialId, kit.StudyId))
        {
            var trial = kit.View.Trial(planned.TrialId)!;
            StudyProjection.TrialIdsOf(report).ShouldBe([planned.TrialId], report.GetType().Name);
            var before = JsonSerializer.Serialize(trial);
            var after = StudyProjection.ApplyTrial(Copy(trial), planned.TrialId, report, new RecordedSequence(100))!;
            // Something besides the sequence changed: the report was folded, not only seen.
            after.LastSequence = trial.LastSequence;
            JsonSerializer.Serialize(after).ShouldNotBe(before, report.GetType().Name);
        }
    }

    [Fact]
    public void no_report_of_another_study_changes_a_trial_even_when_it_names_the_trial()
    {
        // An import (or a hand in the database) that reused a trial's id: the trial's document keeps to its own study's events.
        var kit = new StudyTestKit();
        var planned = kit.Defined.Trials[0];
        var trial = kit.View.Trial(planned.TrialId)!;
        var before = JsonSerializer.Serialize(trial);
        foreach (var report in Samples(planned.TrialId, Guid.NewGuid()))
            JsonSerializer.Serialize(StudyProjection.ApplyTrial(Copy(trial), planned.TrialId, report, new RecordedSequence(100)))
                .ShouldBe(before, report.GetType().Name);
        var otherDefined = kit.Defined with { StudyId = Guid.NewGuid() };
        JsonSerializer.Serialize(StudyProjection.ApplyTrial(Copy(trial), planned.TrialId, otherDefined, new RecordedSequence(100))).ShouldBe(before);
    }

    [Fact]
    public void end_ness_and_the_trial_a_report_is_about_come_from_the_vocabulary()
    {
        var trial = Guid.NewGuid();
        foreach (var report in Samples(trial))
        {
            StudyDecisions.TrialIdOf(report).ShouldBe(trial);
            StudyDecisions.EndsTrial(report).ShouldBe(report is TrialCompleted or TrialDiverged or TrialFailed or TrialCancelled, report.GetType().Name);
            ((IStudyEvent)report).OccurredAt.ShouldBe(At);
        }
    }

    [Fact]
    public void a_report_serialises_without_its_vocabulary_properties()
    {
        // OccurredAt is implemented explicitly: the stored event's JSON keeps exactly its own fields.
        JsonSerializer.Serialize(new TrialCompleted(Study, Guid.Empty, 0.4, 0.9, 1000, 2.0, At)).ShouldNotContain("OccurredAt");
    }

    private static TrialView Copy(TrialView t) => JsonSerializer.Deserialize<TrialView>(JsonSerializer.Serialize(t))!;
}

using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>Given-when-then over events: a study folded from events, with helpers to report trial outcomes.</summary>
internal sealed class StudyTestKit
{
    public static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private long sequence;
    private readonly StudyFolder folder = new();

    public StudyTestKit(ScalingLedger.Contracts.StudySpec? spec = null)
    {
        var s = GridPlanner.Normalize(spec ?? Specs.Demo());
        Defined = new StudyDefined(Guid.NewGuid(), s, GridPlanner.Plan(s, Guid.NewGuid), "tester", Now);
        folder.Apply(Defined, new RecordedSequence(++sequence));
        View = folder.View;
    }

    public StudyDefined Defined { get; }
    public StudyView View { get; private set; }
    public Guid StudyId => Defined.StudyId;

    public PlannedTrial Trial(int width, double lr, int seed = 0) =>
        Defined.Trials.Single(t => t.Width == width && t.LearningRate == lr && t.Seed == seed);

    public StudyTestKit Given(params object[] events)
    {
        foreach (var e in events) folder.Apply(e, new RecordedSequence(++sequence));
        View = folder.View;
        return this;
    }

    /// <summary>Records whatever the decision says, as the Server does.</summary>
    public IReadOnlyList<object> Report(object report)
    {
        var decided = TestLaws.DecideReport(View, report);
        Given([.. decided]);
        return decided;
    }

    public TrialCompleted Completed(PlannedTrial t, double loss) => new(StudyId, t.TrialId, loss, 0.8, 1000, 1.0, Now);
    public TrialDiverged Diverged(PlannedTrial t) => new(StudyId, t.TrialId, 10, "train loss is NaN", Now);

    /// <summary>Ends every trial with a loss given by <paramref name="loss"/>; null means it diverged.</summary>
    public StudyTestKit FinishAll(Func<PlannedTrial, double?> loss)
    {
        foreach (var t in Defined.Trials)
            Given(loss(t) is { } l ? Completed(t, l) : Diverged(t));
        return this;
    }
}

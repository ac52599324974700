namespace ScalingLedger.Domain.Studies;

/// <summary>One line of the studies list.</summary>
public sealed record StudySummary(
    Guid Id,
    string Name,
    string Owner,
    StudyStatus Status,
    DateTimeOffset DefinedAt,
    DateTimeOffset? EndedAt,
    int TrialCount,
    IReadOnlyDictionary<TrialStatus, int> TrialCounts)
{
    public static StudySummary Of(StudyView v) =>
        new(v.Id, v.Name, v.Owner, v.Status, v.DefinedAt, v.EndedAt, v.Trials.Count, v.CountsByStatus());
}

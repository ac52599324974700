namespace ScalingLedger.Domain.Studies;

/// <summary>One line of the studies list.</summary>
/// <param name="OptimalLrSlope">The newest optimal-LR law's slope d with its interval, where one was fitted.</param>
public sealed record StudySummary(
    Guid Id,
    string Name,
    string Owner,
    StudyStatus Status,
    DateTimeOffset DefinedAt,
    DateTimeOffset? EndedAt,
    int TrialCount,
    IReadOnlyDictionary<TrialStatus, int> TrialCounts,
    string Source = "trained",
    DateTimeOffset? LastActivityAt = null,
    ParameterEstimate? OptimalLrSlope = null)
{
    public static StudySummary Of(StudySummaryView v, IReadOnlyDictionary<TrialStatus, int> counts) =>
        new(v.Id, v.Name, v.Owner, v.Status, v.DefinedAt, v.EndedAt, v.TrialCount,
            Enum.GetValues<TrialStatus>().ToDictionary(s => s, s => counts.GetValueOrDefault(s)), v.Source, v.LastActivityAt, v.OptimalLrSlope);

    public static StudySummary Of(StudyView v) =>
        new(v.Id, v.Name, v.Owner, v.Status, v.DefinedAt, v.EndedAt, v.Trials.Count, v.CountsByStatus(), v.Source);
}

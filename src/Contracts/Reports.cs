namespace ScalingLedger.Contracts;

// The vocabulary of what a study's events are about. Everything that needs to know which trial an event is about,
// whether it ends a trial, or when it happened asks these interfaces; nothing lists the event types by hand.

/// <summary>An event of a study's stream that says when it happened.</summary>
public interface IStudyEvent
{
    Guid StudyId { get; }

    /// <summary>When it happened (explicitly implemented by each event, so it is never serialized as a field of its own).</summary>
    DateTimeOffset OccurredAt { get; }
}

/// <summary>Something a trainer reports about one trial (or the Server decides about it): the trial's document folds it.</summary>
public interface ITrialReport : IStudyEvent
{
    Guid TrialId { get; }
}

/// <summary>A report that ends its trial (the laws may have new evidence).</summary>
public interface ITrialEnd : ITrialReport;

/// <summary>
/// A message a trainer sends to the Server's reports queue (<see cref="Queues.TrialReports"/>). The Server takes every type that
/// says so, one entry point for all, and decides each in one place (the Domain's <c>ReportDecisions</c>); a type marked here
/// without a decision there fails that decision's table test.
/// </summary>
public interface ITrainerReport
{
    Guid StudyId { get; }
}

/// <summary>The report types a trainer sends, as this assembly declares them (every <see cref="ITrainerReport"/>).</summary>
public static class TrainerReports
{
    public static IReadOnlyList<Type> Types { get; } = typeof(ITrainerReport).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ITrainerReport).IsAssignableFrom(t)).OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToArray();
}

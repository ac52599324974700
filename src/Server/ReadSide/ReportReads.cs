using Marten;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.ReadSide;

/// <summary>
/// What the reports of one group read, loaded at once: the study's summary and the documents of the group's trials. A
/// decision that reads a trial not loaded (none should) gets it from the store.
/// </summary>
public sealed class ReportReads
{
    private readonly IQuerySession session;
    private readonly Guid studyId;
    private readonly Dictionary<Guid, TrialView?> trials;
    private StudySummaryView? summary;
    private bool summaryLoaded;

    private ReportReads(IQuerySession session, Guid studyId, Dictionary<Guid, TrialView?> trials)
    {
        this.session = session;
        this.studyId = studyId;
        this.trials = trials;
    }

    /// <summary>The session the decisions read in (for decisions that read more than a report does).</summary>
    public IQuerySession Session => session;

    public static async Task<ReportReads> LoadAsync(IQuerySession session, Guid studyId, IEnumerable<Guid?> trialIds, CancellationToken cancel)
    {
        var ids = trialIds.OfType<Guid>().Distinct().ToArray();
        var loaded = ids.Length == 0 ? [] : await session.LoadManyAsync<TrialView>(cancel, ids);
        var trials = ids.ToDictionary(id => id, id => (TrialView?)null);
        foreach (var trial in loaded) trials[trial.TrialId] = trial;
        return new ReportReads(session, studyId, trials);
    }

    /// <summary>The trial's document, or null when the ledger has no such trial.</summary>
    public async Task<TrialView?> TrialAsync(Guid trialId, CancellationToken cancel)
    {
        if (!trials.TryGetValue(trialId, out var trial)) trials[trialId] = trial = await session.LoadAsync<TrialView>(trialId, cancel);
        return trial;
    }

    /// <summary>A coordinate check's document, or null when it is not recorded.</summary>
    public Task<CoordinateCheckView?> CoordinateCheckAsync(Guid checkId, CancellationToken cancel) => session.LoadAsync<CoordinateCheckView>(checkId, cancel);

    /// <summary>The study's summary (read once per group), or null when there is no such study.</summary>
    public async Task<StudySummaryView?> SummaryAsync(CancellationToken cancel)
    {
        if (!summaryLoaded)
        {
            summary = await StudyDocuments.SummaryAsync(session, studyId, cancel);
            summaryLoaded = true;
        }
        return summary;
    }
}

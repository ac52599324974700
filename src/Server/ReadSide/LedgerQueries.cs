using Marten;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Store;
using ScalingLedger.Web;

namespace ScalingLedger.Server.ReadSide;

/// <summary>
/// Reads of the ledger for the API and the pages. Each loads the documents it shows; <c>?asOf=</c> folds the study's events
/// up to that sequence of its history (<see cref="RecordedSequence"/>) with the same folds that keep the documents.
/// </summary>
public sealed class LedgerQueries(IDocumentStore store, AssembledStudies assembled) : ILedgerQueries
{
    public async Task<IReadOnlyList<StudySummary>> ListStudiesAsync(int offset = 0, int limit = StudyPages.Default, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var summaries = await session.Query<StudySummaryView>().OrderByDescending(v => v.DefinedAt).ThenByDescending(v => v.Id)
            .Skip(Math.Max(0, offset)).Take(Math.Clamp(limit, 1, StudyPages.Max)).ToListAsync(cancel);
        var counts = await StudyDocuments.CountsAsync(session, summaries.Select(s => s.Id).ToArray(), cancel);
        return summaries.Select(s => new StudySummary(s, counts.GetValueOrDefault(s.Id) ?? [])).ToList();
    }

    /// <summary>For the pages: trials carry only their newest checkpoint.</summary>
    public Task<StudyView?> GetStudyAsync(Guid id, RecordedSequence? asOf = null, CancellationToken cancel = default) =>
        GetStudyAsync(id, asOf, TrialDetail.LastCheckpoint, cancel);

    public async Task<StudyView?> GetStudyAsync(Guid id, RecordedSequence? asOf, TrialDetail detail, CancellationToken cancel)
    {
        await using var session = store.QuerySession();
        return asOf is { } sequence
            ? await StudyDocuments.StudyAsOfAsync(session, id, sequence, cancel, checkpoints: detail != TrialDetail.NoCheckpoints)
            : await assembled.GetAsync(session, id, detail, cancel);
    }

    public async Task<IReadOnlyList<RefitTrouble>> GetRefitTroublesAsync(Guid id, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        return await session.Query<RefitTrouble>().Where(t => t.StudyId == id).OrderBy(t => t.Phase).ToListAsync(cancel);
    }

    public async Task<(StudySummaryView Study, TrialView Trial)?> GetTrialAsync(Guid studyId, Guid trialId, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var summary = await StudyDocuments.SummaryAsync(session, studyId, cancel);
        var trial = await session.LoadAsync<TrialView>(trialId, cancel);
        return summary is not null && trial is not null && trial.StudyId == studyId ? (summary, trial) : null;
    }

    public async Task<IReadOnlyList<ReplayEvent>> GetReplayEventsAsync(Guid id, LedgerPosition after = default, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var events = await StudyDocuments.EventsAsync(session, id, null, cancel, after, checkpoints: false);
        return events.Select(e => new ReplayEvent(e.Data, LedgerSequence.Of(e), LedgerSequence.PositionOf(e))).ToList();
    }

    public async Task<(ComparisonView Comparison, IReadOnlyList<StudyView> Studies, IReadOnlyList<Guid> Missing)> CompareAsync(IReadOnlyList<Guid> ids,
        CancellationToken cancel = default)
    {
        var found = new List<StudyView>();
        var missing = new List<Guid>();
        foreach (var id in ids.Distinct())
        {
            if (await GetStudyAsync(id, null, TrialDetail.NoCheckpoints, cancel) is { } view) found.Add(view);
            else missing.Add(id);
        }
        return (StudyComparison.Compare(found), found, missing);
    }

    /// <summary>Every fit the study recorded (its LawFitted events, nothing else), oldest first; null when there is no such study.</summary>
    public async Task<IReadOnlyList<JasperFx.Events.IEvent>?> GetFitEventsAsync(Guid id, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var events = await StudyDocuments.EventsAsync(session, id, null, cancel, onlyType: StudyDocuments.FitType);
        return events.Count > 0 || await StudyDocuments.SummaryAsync(session, id, cancel) is not null ? events : null;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> of the study's events after <paramref name="after"/> in this ledger; null when there is no
    /// such study.
    /// </summary>
    public async Task<IReadOnlyList<JasperFx.Events.IEvent>?> GetEventsPageAsync(Guid id, LedgerPosition after, int limit,
        CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        var events = await StudyDocuments.EventsAsync(session, id, null, cancel, after, limit);
        return events.Count > 0 || await StudyDocuments.SummaryAsync(session, id, cancel) is not null ? events : null;
    }

    /// <summary>The study's coordinate checks, oldest first; null when there is no such study.</summary>
    public async Task<IReadOnlyList<CoordinateCheckRecorded>?> GetCoordinateChecksAsync(Guid id, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        if (await StudyDocuments.SummaryAsync(session, id, cancel) is null) return null;
        return (await StudyDocuments.CoordinateChecksAsync(session, id, cancel)).Where(c => c.Check is not null).Select(c => c.Check!).ToList();
    }

    public async Task<StudySummaryView?> GetSummaryAsync(Guid id, CancellationToken cancel = default)
    {
        await using var session = store.QuerySession();
        return await StudyDocuments.SummaryAsync(session, id, cancel);
    }
}

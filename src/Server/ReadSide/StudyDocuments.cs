using Marten;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Store;

namespace ScalingLedger.Server.ReadSide;

/// <summary>Reads of a study's documents: what each capability needs, and no more.</summary>
public static class StudyDocuments
{
    /// <summary>The table of trial documents, as Marten names it.</summary>
    private static string Trials(IQuerySession session) => session.DocumentStore.Options.Schema.For(typeof(TrialView), qualified: true);

    /// <summary>The events table, as Marten names it.</summary>
    private static string Events(IQuerySession session) => session.DocumentStore.Options.Schema.ForEvents(qualified: true);

    public static Task<StudySummaryView?> SummaryAsync(IQuerySession session, Guid studyId, CancellationToken cancel) =>
        session.LoadAsync<StudySummaryView>(studyId, cancel);

    /// <summary>A study's trials in planned order; without their checkpoints unless asked (the bulk of a study's data).</summary>
    public static async Task<IReadOnlyList<TrialView>> TrialsAsync(IQuerySession session, Guid studyId, bool checkpoints, CancellationToken cancel)
    {
        var trials = checkpoints
            ? await session.Query<TrialView>().Where(t => t.StudyId == studyId).ToListAsync(cancel)
            : await session.QueryAsync<TrialView>($"select data - 'Checkpoints' from {Trials(session)} where study_id = ?", cancel, studyId);
        return trials.OrderBy(t => t.Order).ToList();
    }

    /// <summary>A study's trials with only their newest checkpoint each (what the study page shows of a running trial).</summary>
    public static Task<IReadOnlyList<TrialView>> TrialsWithLastCheckpointAsync(IQuerySession session, Guid studyId, CancellationToken cancel) =>
        session.QueryAsync<TrialView>(
            $"select data - 'Checkpoints' || jsonb_build_object('Checkpoints', coalesce(jsonb_path_query_array(data, '$.Checkpoints[last]'), '[]'::jsonb)) " +
            $"from {Trials(session)} where study_id = ? order by (data ->> 'Order')::int", cancel, studyId);

    public static Task<StudyLawsView?> LawsAsync(IQuerySession session, Guid studyId, CancellationToken cancel) =>
        session.LoadAsync<StudyLawsView>(studyId, cancel);

    public static async Task<IReadOnlyList<PredictionView>> PredictionsAsync(IQuerySession session, Guid studyId, bool openOnly, CancellationToken cancel)
    {
        var query = session.Query<PredictionView>().Where(p => p.StudyId == studyId);
        if (openOnly) query = query.Where(p => p.Resolution == null);
        return (await query.ToListAsync(cancel)).OrderBy(p => p.IssuedSequence).ToList();
    }

    /// <summary>The study's fits that are not credible (their predictions are set aside).</summary>
    public static async Task<IReadOnlyList<FitCredibilityView>> NotCredibleFitsAsync(IQuerySession session, Guid studyId, CancellationToken cancel) =>
        await session.Query<FitCredibilityView>().Where(f => f.StudyId == studyId && !f.Credible).OrderBy(f => f.Sequence).ToListAsync(cancel);

    /// <summary>The study's coordinate checks, oldest first.</summary>
    public static async Task<IReadOnlyList<CoordinateCheckView>> CoordinateChecksAsync(IQuerySession session, Guid studyId, CancellationToken cancel) =>
        await session.Query<CoordinateCheckView>().Where(c => c.StudyId == studyId).OrderBy(c => c.Sequence).ToListAsync(cancel);

    /// <summary>
    /// Which of the ids an import brings already key a document of this ledger, each named with its kind and the study it
    /// belongs to (at most <paramref name="limit"/>).
    /// </summary>
    public static async Task<IReadOnlyList<string>> TakenAsync(IQuerySession session, Domain.Ledger.ImportedIds ids, int limit, CancellationToken cancel)
    {
        var taken = new List<string>();
        async Task Find<T>(string kind, IReadOnlyList<Guid> wanted, System.Linq.Expressions.Expression<Func<T, bool>> among, Func<T, (Guid, Guid)> of)
            where T : notnull
        {
            if (wanted.Count == 0 || taken.Count >= limit) return;
            foreach (var (id, study) in (await session.Query<T>().Where(among).Take(limit).ToListAsync(cancel)).Select(of))
                taken.Add($"{kind} {id} is already one of study {study}'s");
        }
        var trials = ids.Trials.ToArray();
        var fits = ids.Fits.ToArray();
        var predictions = ids.Predictions.ToArray();
        var checks = ids.Checks.ToArray();
        await Find<TrialView>("trial", trials, t => t.TrialId.IsOneOf(trials), t => (t.TrialId, t.StudyId));
        await Find<FitCredibilityView>("fit", fits, f => f.Id.IsOneOf(fits), f => (f.Id, f.StudyId));
        await Find<PredictionView>("prediction", predictions, p => p.Id.IsOneOf(predictions), p => (p.Id, p.StudyId));
        await Find<CoordinateCheckView>("coordinate check", checks, c => c.Id.IsOneOf(checks), c => (c.Id, c.StudyId));
        return taken.Take(limit).ToList();
    }

    /// <summary>The study as the API shows it, assembled from its documents; null when there is no such study.</summary>
    public static async Task<StudyView?> StudyAsync(IQuerySession session, Guid studyId, TrialDetail detail, CancellationToken cancel)
    {
        if (await SummaryAsync(session, studyId, cancel) is not { } summary) return null;
        var trials = detail switch
        {
            TrialDetail.AllCheckpoints => await TrialsAsync(session, studyId, checkpoints: true, cancel),
            TrialDetail.LastCheckpoint => await TrialsWithLastCheckpointAsync(session, studyId, cancel),
            _ => await TrialsAsync(session, studyId, checkpoints: false, cancel),
        };
        return StudyView.Assemble(summary, trials, await LawsAsync(session, studyId, cancel), await PredictionsAsync(session, studyId, false, cancel),
            await NotCredibleFitsAsync(session, studyId, cancel), await CoordinateChecksAsync(session, studyId, cancel));
    }

    /// <summary>
    /// What the reactor decides from, read in one snapshot so that every document is as of the same moment: the summary,
    /// the trials without checkpoints, the newest fits, the open predictions, and the newest sequence of the study's history
    /// (its recorded sequence: what the fits decided from it record as their evidence sequence).
    /// </summary>
    public static async Task<EvidenceState?> EvidenceStateAsync(IQuerySession snapshot, Guid studyId, CancellationToken cancel)
    {
        if (await SummaryAsync(snapshot, studyId, cancel) is not { } summary) return null;
        var trials = await TrialsAsync(snapshot, studyId, checkpoints: false, cancel);
        var laws = await LawsAsync(snapshot, studyId, cancel);
        var open = await PredictionsAsync(snapshot, studyId, openOnly: true, cancel);
        // The study's last event (its recorded sequences rise along its stream): found by the stream's index, not by reading the
        // header of every checkpoint, which made each refit of a 4,320-trial study read a hundred thousand rows.
        var sequence = (await snapshot.AdvancedSql.QueryAsync<long>(
            $"select {LedgerSequence.RecordedSql} from {Events(snapshot)} where stream_id = ? order by version desc limit 1", cancel, studyId))
            .FirstOrDefault();
        return new EvidenceState(summary, trials, laws?.LatestFits ?? [], open, new RecordedSequence(sequence));
    }

    /// <summary>Every study's trial counts by status, from the trial documents' indexed columns.</summary>
    /// <summary>The trials of each of <paramref name="studyIds"/> by status.</summary>
    public static async Task<Dictionary<Guid, Dictionary<TrialStatus, int>>> CountsAsync(IQuerySession session, Guid[] studyIds, CancellationToken cancel)
    {
        var select = "select jsonb_build_object('StudyId', study_id, 'Status', status, 'Count', count(*)) from " + Trials(session);
        var rows = await session.QueryAsync<StatusCount>($"{select} where study_id = any(?) group by study_id, status", cancel, studyIds);
        var counts = new Dictionary<Guid, Dictionary<TrialStatus, int>>();
        foreach (var row in rows)
        {
            if (!counts.TryGetValue(row.StudyId, out var byStatus)) counts[row.StudyId] = byStatus = [];
            byStatus[(TrialStatus)row.Status] = (int)row.Count;
        }
        return counts;
    }

    /// <summary>One row of <see cref="CountsAsync"/>.</summary>
    public sealed record StatusCount(Guid StudyId, int Status, long Count);

    /// <summary>
    /// Every study's trials that are scheduled or running, without their checkpoints: what the reconciler reads every second.
    /// Reading their curves too made each pass cost more as the study grew.
    /// </summary>
    public static Task<IReadOnlyList<TrialView>> OpenTrialsAsync(IQuerySession session, CancellationToken cancel) =>
        session.QueryAsync<TrialView>($"select data - 'Checkpoints' from {Trials(session)} where status in (?, ?)", cancel,
            (int)TrialStatus.Scheduled, (int)TrialStatus.Running);

    /// <summary>The trials of a study that have not ended.</summary>
    public static async Task<IReadOnlyList<TrialView>> UnfinishedTrialsAsync(IQuerySession session, Guid studyId, CancellationToken cancel) =>
        (await TrialsAsync(session, studyId, checkpoints: false, cancel)).Where(t => !t.IsTerminal).ToList();

    /// <summary>A study's events in this ledger's order, after <paramref name="after"/> and optionally only up to <paramref name="upTo"/>.</summary>
    public static async Task<IReadOnlyList<JasperFx.Events.IEvent>> EventsAsync(IQuerySession session, Guid studyId, LedgerPosition? upTo,
        CancellationToken cancel, LedgerPosition after = default, int? limit = null, bool checkpoints = true, string? onlyType = null)
    {
        var from = after.Value;
        var query = session.Events.QueryAllRawEvents().Where(e => e.StreamId == studyId && e.Sequence > from);
        if (upTo is { Value: var last }) query = query.Where(e => e.Sequence <= last);
        // A study's checkpoints are most of its events: reads that need none leave them in the database.
        if (!checkpoints) query = query.Where(e => e.EventTypeName != CheckpointType);
        if (onlyType is not null) query = query.Where(e => e.EventTypeName == onlyType);
        var ordered = query.OrderBy(e => e.Sequence);
        return limit is { } n ? await ordered.Take(n).ToListAsync(cancel) : await ordered.ToListAsync(cancel);
    }

    /// <summary>
    /// The study as it was at <paramref name="asOf"/> in its history (for a study moved here, a sequence of the ledger it was
    /// recorded in: see <see cref="LedgerSequence"/>): its events folded by the live folds (without the trials' curves unless
    /// <paramref name="checkpoints"/>).
    /// </summary>
    public static async Task<StudyView?> StudyAsOfAsync(IQuerySession session, Guid studyId, RecordedSequence asOf, CancellationToken cancel,
        bool checkpoints = true)
    {
        if (await PositionAtAsync(session, studyId, asOf, cancel) is not { } upTo) return null;
        var events = await EventsAsync(session, studyId, upTo, cancel, checkpoints: checkpoints);
        return events.Count == 0 ? null : StudyProjection.Fold(events.Select(e => (e.Data, LedgerSequence.Of(e))));
    }

    /// <summary>
    /// Where in this ledger the study's history reaches <paramref name="asOf"/>: the position of its last event recorded at or
    /// before it (a study's events are appended in the order they were recorded, wherever that was); null before its first.
    /// </summary>
    public static async Task<LedgerPosition?> PositionAtAsync(IQuerySession session, Guid studyId, RecordedSequence asOf, CancellationToken cancel)
    {
        var position = (await session.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0) from {Events(session)} where stream_id = ? and {LedgerSequence.RecordedSql} <= ?", cancel, studyId,
            asOf.Value)).First();
        return position > 0 ? new LedgerPosition(position) : null;
    }

    /// <summary>
    /// The recorded sequence (see <see cref="LedgerSequence"/>) of the study's last event at or before <paramref name="recorded"/>,
    /// checkpoints included: where a fold that left the checkpoints out ends.
    /// </summary>
    public static async Task<RecordedSequence> LastRecordedSequenceAsync(IQuerySession session, Guid studyId, RecordedSequence recorded,
        CancellationToken cancel) =>
        new((await session.QueryAsync<long>(
            $"select coalesce(max(s), 0) from (select {LedgerSequence.RecordedSql} as s " +
            $"from {Events(session)} where stream_id = ?) e where s <= ?", cancel, studyId, recorded.Value)).First());

    public static readonly string CheckpointType = JasperFx.Events.EventTypeExtensions.GetEventTypeName(typeof(LossCheckpointRecorded));

    public static readonly string FitType = JasperFx.Events.EventTypeExtensions.GetEventTypeName(typeof(LawFitted));
}

/// <summary>How much of each trial's curve a read of a study brings.</summary>
public enum TrialDetail { NoCheckpoints, LastCheckpoint, AllCheckpoints }

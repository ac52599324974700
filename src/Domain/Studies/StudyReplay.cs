using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// A study's ledger held in memory for replay: the state as of any sequence is the fold of the events up to it, with the
/// same folds as the live documents (<see cref="StudyProjection.Fold"/>). Checkpoints are left out (the bulk of a study's
/// events; the replayed panels show final losses, laws and predictions), so a step of the replay folds a few thousand
/// events in memory instead of reading the ledger again. The replay speaks the study's history (<see cref="RecordedSequence"/>):
/// a study moved from another ledger replays at the sequences it was recorded at there, as its data (a fit's evidence, an
/// observation) and its documents do; this ledger's positions only say which events are newer than those held.
/// </summary>
public sealed class StudyReplay
{
    private readonly List<ReplayEvent> events = [];
    private readonly List<RecordedSequence> moments = [];

    public StudyReplay(IEnumerable<ReplayEvent> events) => Append(events);

    /// <summary>The sequence of the study's first event (its definition or import).</summary>
    public RecordedSequence First => events.Count == 0 ? RecordedSequence.Start : events[0].Sequence;

    /// <summary>The sequence of the newest event held.</summary>
    public RecordedSequence Last => events.Count == 0 ? RecordedSequence.Start : events[^1].Sequence;

    /// <summary>Where the newest event held sits in this ledger: a live page reads the events after it.</summary>
    public LedgerPosition LastPosition => events.Count == 0 ? LedgerPosition.Start : events[^1].Position;

    public int Count => events.Count;

    /// <summary>The study has ended (completed or cancelled) by the newest event held: its replay ends where it is now.</summary>
    public bool StudyEnded { get; private set; }

    /// <summary>
    /// The sequences where what the panels show changes: the study's start, each trial's end, and the last event of each
    /// run of the reactor's events (a refit's fits, predictions and resolutions are one moment).
    /// </summary>
    public IReadOnlyList<RecordedSequence> Moments => moments;

    /// <summary>
    /// Adds events newer in this ledger than <see cref="LastPosition"/> (a live page follows its study this way); those held
    /// already are ignored.
    /// </summary>
    public void Append(IEnumerable<ReplayEvent> newer)
    {
        foreach (var e in newer.Where(e => e.Data is not LossCheckpointRecorded).OrderBy(e => e.Position))
        {
            if (events.Count > 0 && e.Position <= LastPosition) continue;
            var reactorRun = events.Count > 0 && IsReactor(events[^1].Data) && IsReactor(e.Data);
            events.Add(e);
            // An extension runs a study again: its replay goes on until the new trials end.
            StudyEnded = e.Data is not StudyExtended && (StudyEnded || e.Data is StudyCompleted or StudyCancelled or StudyImported);
            if (reactorRun) moments[^1] = e.Sequence;
            else if (events.Count == 1 || IsMoment(e.Data)) moments.Add(e.Sequence);
        }
    }

    /// <summary>The study as of <paramref name="asOf"/> (its first event at least); trials carry no checkpoints.</summary>
    public StudyView At(RecordedSequence asOf)
    {
        if (events.Count == 0) throw new InvalidOperationException("The replay holds no event.");
        var end = UpTo(asOf);
        return StudyProjection.Fold(events.Take(Math.Max(1, end)).Select(e => (e.Data, e.Sequence)));
    }

    /// <summary>Every optimal-LR fit recorded up to <paramref name="asOf"/>, oldest first (the slope's history).</summary>
    public IReadOnlyList<(LawFitted Fit, RecordedSequence Sequence)> OptimalLrFits(RecordedSequence asOf) =>
        events.Take(UpTo(asOf)).Where(e => e.Data is LawFitted { Law: OptimalLrLaw.LawName }).Select(e => ((LawFitted)e.Data, e.Sequence)).ToList();

    /// <summary>The moment before (-1) or after (+1) <paramref name="asOf"/>, staying within the study.</summary>
    public RecordedSequence Step(RecordedSequence asOf, int direction)
    {
        if (moments.Count == 0) return asOf;
        if (direction > 0) return moments.FirstOrDefault(m => m > asOf, moments[^1]);
        return moments.LastOrDefault(m => m < asOf, moments[0]);
    }

    private int UpTo(RecordedSequence asOf)
    {
        // Events are in sequence order: the count of those at or below asOf.
        int lo = 0, hi = events.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (events[mid].Sequence <= asOf) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static bool IsReactor(object data) => data is LawFitted or PredictionIssued or PredictionResolved or StudyCompleted;

    private static bool IsMoment(object data) =>
        IsReactor(data) || data is TrialCompleted or TrialDiverged or TrialFailed or TrialCancelled or StudyCancelled or CoordinateCheckRecorded
            or StudyExtended;
}

/// <summary>
/// One event of a study's replay: its data, where it happened in the study's history (<paramref name="Sequence"/>), and where it
/// sits in this ledger (<paramref name="Position"/>; the same number unless the study was moved here from another ledger).
/// </summary>
public readonly record struct ReplayEvent(object Data, RecordedSequence Sequence, LedgerPosition Position);

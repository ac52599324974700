using System.Globalization;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Web;

/// <summary>
/// What the study page shows and how its replay moves, apart from the markup (and tested apart from it): the study now or
/// as of an event sequence, the replay of its events, the belief history, and play. Every sequence here (the address's
/// <c>?asOf=</c>, the replay's moments) is one of the study's history (<see cref="RecordedSequence"/>), so a study moved from
/// another ledger replays, and its addresses point, where its events happened. The page renders this state and tells
/// it what the user did; this reads the ledger through <see cref="ILedgerQueries"/> and says where the address should go.
/// </summary>
public sealed class StudyPage(ILedgerQueries ledger, Guid studyId)
{
    public Guid StudyId => studyId;
    public StudyView? Study { get; private set; }
    public StudyReplay? Replay { get; private set; }
    public BeliefHistoryView? History { get; private set; }
    /// <summary>Laws of the study that could not be refitted now (read with the study now, never as of the past).</summary>
    public IReadOnlyList<RefitTrouble> Troubles { get; private set; } = [];

    /// <summary>
    /// The <c>?asOf=</c> of each address the replay returned (the page moves the address there), not yet come back through
    /// <see cref="ShowAsync"/>. Steps taken faster than the browser reports the address (clicks under load) must not be undone
    /// by an earlier step's address arriving late: it once set the replay back a moment, and the next step went from there.
    /// </summary>
    private readonly Queue<string?> ownAddresses = new();

    private string Own(string address, string? asOf)
    {
        ownAddresses.Enqueue(asOf);
        return address;
    }

    /// <summary>The sequence shown; null shows the study now.</summary>
    public RecordedSequence? AsOf { get; private set; }

    public bool Playing { get; private set; }

    /// <summary>The first read has been made (the study may still be missing).</summary>
    public bool Loaded { get; private set; }

    public LedgerRead Read { get; } = new();

    /// <summary>Whether the page follows the ledger live (the study now, while it runs).</summary>
    public bool Live => AsOf is null && Study?.Status == StudyStatus.Running;

    /// <summary>The last moment a replay can reach: the newest event held or shown.</summary>
    public RecordedSequence Last => RecordedSequence.Max(Replay?.Last ?? RecordedSequence.Start, new RecordedSequence(Study?.LastSequence ?? 0));

    /// <summary>
    /// The address's <c>?asOf=</c> as typed: a whole number, or nothing. Anything else is refused with a sentence and the
    /// study is shown now.
    /// </summary>
    public static (RecordedSequence? AsOf, string? Problem) ParseAsOf(string? text) =>
        string.IsNullOrEmpty(text) ? (null, null)
        : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? (new RecordedSequence(parsed), null)
        : (null, $"asOf must be an event sequence (a whole number, 0 or more); '{text}' is not one. Showing the study now.");

    /// <summary>
    /// Shows what the address asks for. False when it is what is shown already (the replay moved the address itself):
    /// nothing to read, nothing to draw again.
    /// </summary>
    public async Task<bool> ShowAsync(string? asOfText)
    {
        if (ownAddresses.Contains(asOfText))
        {
            // One of the replay's own addresses coming back: what it shows is shown already, or a later step is (passed here).
            while (ownAddresses.Dequeue() != asOfText) { }
            return false;
        }
        ownAddresses.Clear();
        var (requested, problem) = ParseAsOf(asOfText);
        if (Loaded && requested == AsOf && Study is not null && problem is null && Read.Problem is null) return false;
        Read.Say(problem);
        AsOf = requested;
        await Read.TryAsync(async () =>
        {
            Study = AsOf is { } at && Replay is not null && at >= Replay.First && at <= Replay.Last
                ? Replay.At(at)
                : await ledger.GetStudyAsync(studyId, AsOf);
            Troubles = AsOf is null ? await ledger.GetRefitTroublesAsync(studyId) : [];
            UpdateHistory();
        });
        Loaded = true;
        return true;
    }

    /// <summary>Reads the replay (every event but checkpoints) once the page is shown, so the page is interactive first.</summary>
    public async Task LoadReplayAsync()
    {
        if (Replay is not null || Study is null) return;
        await Read.TryAsync(async () =>
        {
            Replay = new StudyReplay(await ledger.GetReplayEventsAsync(studyId));
            UpdateHistory();
        });
    }

    /// <summary>The ledger changed: the study now, and the replay's newer events. Nothing while replaying the past.</summary>
    public async Task RefreshAsync()
    {
        if (AsOf is not null) return;
        await Read.TryAsync(async () =>
        {
            Study = await ledger.GetStudyAsync(studyId);
            Troubles = await ledger.GetRefitTroublesAsync(studyId);
            Replay?.Append(await ledger.GetReplayEventsAsync(studyId, Replay.LastPosition));
            UpdateHistory();
        });
    }

    /// <summary>
    /// Moves the replay to <paramref name="at"/> and returns the address to show: <c>?asOf=</c>, or the study now when the
    /// replay reaches the end of a study that no longer runs.
    /// </summary>
    public async Task<string?> SeekAsync(RecordedSequence at)
    {
        if (Replay is null) return null;
        if (at >= Last && Replay.StudyEnded) return await GoLiveAsync();
        AsOf = RecordedSequence.Max(Replay.First, at);
        await Read.TryAsync(() =>
        {
            Study = Replay.At(AsOf.Value);
            return Task.CompletedTask;
        });
        return Own($"/studies/{studyId}?asOf={AsOf}", AsOf.ToString());
    }

    /// <summary>The moment before (-1) or after (+1) the one shown.</summary>
    public Task<string?> StepAsync(int direction) => Replay is null ? Task.FromResult<string?>(null) : SeekAsync(Replay.Step(AsOf ?? Replay.Last, direction));

    /// <summary>Back to the study now; returns its address.</summary>
    public async Task<string> GoLiveAsync()
    {
        Playing = false;
        AsOf = null;
        Loaded = false;
        ownAddresses.Clear();
        await ShowAsync(null);
        return Own($"/studies/{studyId}", null);
    }

    /// <summary>
    /// Plays the study's history from the start (or from the point shown), a moment every <paramref name="pace"/>, until it
    /// ends, is paused, or <paramref name="stop"/> says the page went away. <paramref name="shown"/> renders each step and
    /// moves the address.
    /// </summary>
    public async Task PlayAsync(TimeSpan pace, Func<string?, Task> shown, Func<bool> stop)
    {
        Playing = !Playing;
        if (!Playing || Replay is null) return;
        if (AsOf is null || AsOf >= Replay.Last) await shown(await SeekAsync(Replay.First));
        while (Playing && !stop())
        {
            await shown(null);
            await Task.Delay(pace);
            if (!Playing || stop() || AsOf is null) break;
            var next = Replay.Step(AsOf.Value, 1);
            if (next <= AsOf) break;
            await shown(await SeekAsync(next));
        }
        Playing = false;
    }

    public void Pause() => Playing = false;

    /// <summary>The belief history as of the point shown (it follows a replay once the replay rests).</summary>
    public void UpdateHistory()
    {
        if (Replay is null || Study is null) return;
        History = BeliefHistory.Build(Study.Trials, Study.Predictions, Replay.OptimalLrFits(AsOf ?? RecordedSequence.End),
            Study.NotCredibleFits.Select(f => f.Id).ToHashSet());
    }
}

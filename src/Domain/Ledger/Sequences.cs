using System.Globalization;

namespace ScalingLedger.Domain.Ledger;

/// <summary>
/// Where an event sits in this ledger: its global sequence here (the store's <c>seq_id</c>). It orders this ledger's events
/// and pages through them (<c>/events?after=</c>, a live page's newer events); it says nothing about when, in its study's
/// history, the event happened: a study brought from another ledger (<c>import-events</c>) lands at positions of its own
/// here. Never compared with a <see cref="RecordedSequence"/>: the two are distinct types so that mixing them does not compile.
/// </summary>
public readonly record struct LedgerPosition(long Value) : IComparable<LedgerPosition>
{
    /// <summary>Before the first event of the ledger.</summary>
    public static readonly LedgerPosition Start = new(0);

    public int CompareTo(LedgerPosition other) => Value.CompareTo(other.Value);

    public static bool operator <(LedgerPosition a, LedgerPosition b) => a.Value < b.Value;
    public static bool operator >(LedgerPosition a, LedgerPosition b) => a.Value > b.Value;
    public static bool operator <=(LedgerPosition a, LedgerPosition b) => a.Value <= b.Value;
    public static bool operator >=(LedgerPosition a, LedgerPosition b) => a.Value >= b.Value;

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Where an event happened in its study's history: the global sequence of the ledger it was recorded in. It is the sequence
/// the study's own data speak (a fit's <c>EvidenceSequence</c>, a resolution's <c>ObservedAtSequence</c>), the sequences of
/// its documents (a trial's end, a prediction's issue, the study's last), <c>?asOf=</c>, the site's replay and its belief
/// history. For a study recorded in this ledger it equals the event's <see cref="LedgerPosition"/>; for a study moved here
/// it is the one its events carried with them (the Server's <c>LedgerSequence</c> reads it).
/// </summary>
public readonly record struct RecordedSequence(long Value) : IComparable<RecordedSequence>
{
    /// <summary>Before the study's first event.</summary>
    public static readonly RecordedSequence Start = new(0);

    /// <summary>After every event (the study now).</summary>
    public static readonly RecordedSequence End = new(long.MaxValue);

    public int CompareTo(RecordedSequence other) => Value.CompareTo(other.Value);

    public static bool operator <(RecordedSequence a, RecordedSequence b) => a.Value < b.Value;
    public static bool operator >(RecordedSequence a, RecordedSequence b) => a.Value > b.Value;
    public static bool operator <=(RecordedSequence a, RecordedSequence b) => a.Value <= b.Value;
    public static bool operator >=(RecordedSequence a, RecordedSequence b) => a.Value >= b.Value;

    public static RecordedSequence Max(RecordedSequence a, RecordedSequence b) => a.Value >= b.Value ? a : b;

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

using JasperFx.Events;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Store;

/// <summary>
/// The two numberings of an event, read in one place. Its <see cref="RecordedSequence"/> is the sequence its study's history
/// speaks: a fit records the global sequence of the evidence it saw, a resolution the sequence it was observed at, numbers of
/// the ledger the event was recorded in. A study brought from another ledger (<see cref="Studies.StudyTransfer"/>) lands at
/// other global sequences here, so each of its events keeps the sequence it had there in a header, and the read side (the
/// projections, <c>?asOf=</c>, the site's replay and belief history, a prediction's audit) places it there. Its
/// <see cref="LedgerPosition"/> is where it sits in this ledger: what the events' pages (<c>/events?after=</c>) and a live
/// page's newer events go by.
/// </summary>
public static class LedgerSequence
{
    /// <summary>The header that keeps a transferred event's sequence in the ledger it was first recorded in.</summary>
    public const string Header = "ledger-sequence";

    /// <summary>The SQL of an event row's recorded sequence (over the columns of Marten's events table).</summary>
    public const string RecordedSql = $"coalesce((headers->>'{Header}')::bigint, seq_id)";

    public static RecordedSequence Of(IEvent e) =>
        new(e.Headers?.TryGetValue(Header, out var value) == true && long.TryParse(value?.ToString(), out var recorded) ? recorded : e.Sequence);

    public static LedgerPosition PositionOf(IEvent e) => new(e.Sequence);
}

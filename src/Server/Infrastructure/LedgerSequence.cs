using JasperFx.Events;

namespace ScalingLedger.Server.Infrastructure;

/// <summary>
/// The sequence an event's own data speaks in. A fit records the global sequence of the evidence it saw, a resolution the
/// sequence it was observed at: numbers of the ledger the event was recorded in. A study brought from another ledger
/// (<see cref="Studies.StudyTransfer"/>) lands at other global sequences here, so each of its events keeps the sequence it
/// had there in a header, and the read side (the projections, the fold a prediction's audit refits from) places it there.
/// Navigation (<c>?asOf=</c>, the events' pages, the site's replay) goes by this ledger's own sequences.
/// </summary>
public static class LedgerSequence
{
    /// <summary>The header that keeps a transferred event's sequence in the ledger it was first recorded in.</summary>
    public const string Header = "ledger-sequence";

    public static long Of(IEvent e) =>
        e.Headers?.TryGetValue(Header, out var value) == true && long.TryParse(value?.ToString(), out var recorded) ? recorded : e.Sequence;
}

using System.Text.Json;

namespace ScalingLedger.Contracts;

/// <summary>
/// A study's whole record as one document, to take it to another ledger: every event as stored (its type, stream version,
/// user, time and data) with the hash it was chained with, and the chain's head. <c>GET /api/studies/{id}/export</c> writes
/// it and <c>POST /api/studies/import-events</c> reads it; the ledger it lands in checks the chain before storing anything,
/// and the study there verifies against <see cref="Head"/>.
/// </summary>
/// <param name="Format"><see cref="CurrentFormat"/> when written by this version (a later version of the document gets a new name);
/// <see cref="FirstFormat"/>, written before exports were signed, is still read.</param>
/// <param name="Origin">Came with <see cref="CurrentFormat"/>: the exporting ledger's public key and its signature over the
/// study's head and recorded sequences (see <c>ExportSignature</c>), so the ledger it lands in can tell where it came from.</param>
public sealed record StudyExport(string Format, Guid StudyId, DateTimeOffset ExportedAt, ExportedHead? Head, IReadOnlyList<ExportedEvent> Events,
    ExportOrigin? Origin = null)
{
    public const string CurrentFormat = "scalingledger-study-events/2";
    public const string FirstFormat = "scalingledger-study-events/1";
    public static readonly IReadOnlyList<string> Readable = [CurrentFormat, FirstFormat];
}

/// <summary>
/// Where the study's chain began, and its last event's version and hash (null: none of its events is hashed).
/// <paramref name="SequencedFrom"/> (came later): the version from which each event's hash covers its recorded sequence too.
/// </summary>
public sealed record ExportedHead(long ChainedFrom, long Version, string Hash, long? SequencedFrom = null);

/// <summary>
/// Who exported the study: the exporting ledger's key (<paramref name="Ledger"/>, its fingerprint; <paramref name="PublicKey"/>,
/// base64 SubjectPublicKeyInfo) and its signature (base64) over the export's statement.
/// </summary>
public sealed record ExportOrigin(string Ledger, string PublicKey, string Signature, string Algorithm);

/// <summary>One stored event: <paramref name="Type"/> is the ledger's stored name of its type (e.g. <c>trial_started</c>).</summary>
/// <param name="Sequence">Its global sequence in the ledger it was first recorded in: what the sequences in its data (a fit's
/// evidence, an observation) refer to. Kept with it in every ledger it moves to.</param>
public sealed record ExportedEvent(long Version, long? Sequence, string Type, DateTimeOffset Timestamp, string? User, JsonElement Data, string? Hash);

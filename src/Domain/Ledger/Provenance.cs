using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Ledger;

/// <summary>
/// A digest of the sequences a study's events speak in (<c>version:sequence</c>, one line each, in version order): what an
/// export's signature and an import's record seal, so that no imported event can be moved to another place in the replay.
/// </summary>
public sealed class SequenceDigest
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public void Add(long version, long sequence) =>
        hash.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{version}:{sequence}\n")));

    /// <summary>The digest of the lines added so far (more may follow).</summary>
    public string Current() => Convert.ToHexStringLower(hash.GetCurrentHash());

    public static string Of(IEnumerable<(long Version, long Sequence)> events)
    {
        var digest = new SequenceDigest();
        foreach (var (version, sequence) in events) digest.Add(version, sequence);
        return digest.Current();
    }
}

/// <summary>
/// What an import recorded about the events it brought (<see cref="StudyEventsImported"/>), as verify and the pages tell it:
/// versions 1..<see cref="Events"/> came from an export, whose recorded sequences digest to <see cref="SequencesSha256"/>.
/// </summary>
public sealed record ImportSeal(long Events, string SequencesSha256, string ImportedBy, DateTimeOffset ImportedAt, string? Origin, string? OriginName,
    bool OriginVerified)
{
    public static ImportSeal Of(StudyEventsImported e) =>
        new(e.Events, e.SequencesSha256, e.ImportedBy, e.ImportedAt, e.OriginLedger, e.OriginName, e.OriginVerified);

    /// <summary>One sentence: which events came from where, brought by whom, and whether their origin was proven.</summary>
    public string Says()
    {
        var from = Origin is null
            ? "from an unsigned export (its origin is unknown)"
            : OriginVerified
                ? $"from ledger {ExportSignature.Short(Origin)}{(OriginName is null ? "" : $" ('{OriginName}')")} (verified origin: its signature " +
                  "is by a key this ledger trusts)"
                : $"from ledger {ExportSignature.Short(Origin)} (unverified origin: signed by a key this ledger does not trust)";
        return $"Events 1..{Events} were imported by {ImportedBy} on {ImportedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC {from}.";
    }
}

/// <summary>
/// A ledger's signature over a study it exports: the statement names the study, the moment of export, the chain's head (which
/// covers every event's content, and from <see cref="ChainHead.SequencedFrom"/> on its recorded sequence) and the digest of
/// every event's recorded sequence, so the signature covers the whole record. ECDSA P-256 with SHA-256; a key is known by
/// its fingerprint, the SHA-256 of its public key (SubjectPublicKeyInfo, DER).
/// </summary>
public static class ExportSignature
{
    public const string Algorithm = "ecdsa-p256-sha256";

    public static byte[] Statement(Guid studyId, DateTimeOffset exportedAt, ChainHead head, string sequencesSha256, long events) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"""
             scalingledger-study-export/2
             study {studyId:D}
             exported {exportedAt.UtcDateTime:O}
             head {head.ChainedFrom} {head.Version} {head.Hash} {head.SequencedFrom?.ToString(CultureInfo.InvariantCulture) ?? "-"}
             sequences {sequencesSha256}
             events {events}

             """));

    public static string Fingerprint(byte[] publicKey) => Convert.ToHexStringLower(SHA256.HashData(publicKey));

    /// <summary>The first 16 hex digits of a fingerprint, as pages and messages show a ledger.</summary>
    public static string Short(string fingerprint) => fingerprint.Length > 16 ? fingerprint[..16] : fingerprint;

    public static string Sign(ECDsa key, byte[] statement) => Convert.ToBase64String(key.SignData(statement, HashAlgorithmName.SHA256));

    /// <summary>
    /// Whether <paramref name="signature"/> (base64) is a signature of <paramref name="statement"/> by the key whose public part is
    /// <paramref name="publicKey"/> (base64 SubjectPublicKeyInfo); false for anything malformed.
    /// </summary>
    public static bool Verifies(string publicKey, byte[] statement, string signature)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey), out _);
            return key.KeySize == 256 && key.VerifyData(statement, Convert.FromBase64String(signature), HashAlgorithmName.SHA256);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The fingerprint of a public key given as base64 SubjectPublicKeyInfo, or null when it is not an ECDSA P-256 key.</summary>
    public static string? FingerprintOf(string publicKey)
    {
        try
        {
            var bytes = Convert.FromBase64String(publicKey);
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(bytes, out var read);
            return read == bytes.Length && key.KeySize == 256 ? Fingerprint(bytes) : null;
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            return null;
        }
    }
}

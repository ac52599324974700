using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.Store;

namespace ScalingLedger.Server.Provenance;

/// <summary>
/// The ledger's signing key (ECDSA P-256), with which it signs the studies it exports (<see cref="ExportSignature"/>): another
/// ledger that trusts its public key can then tell a study came from here. Kept like the database's password, never in the
/// database: <c>Ledger:SigningKey</c> (PEM, or base64 DER), else the file <c>Ledger:SigningKeyFile</c> (made, readable by
/// this user alone, when missing), else, on the embedded cluster, <c>&lt;data directory&gt;.signing-key</c> beside its
/// password file. A team's Servers share one key; a Server on a team's database with none configured does not start.
/// </summary>
public sealed class LedgerKey(IOptions<LedgerOptions> options, LedgerDatabase database, ILogger<LedgerKey> log) : IDisposable
{
    private readonly Lock gate = new();
    private ECDsa? key;
    private string? publicKey;

    /// <summary>The public key, base64 SubjectPublicKeyInfo: what another ledger's admin adds to their trusted ledgers.</summary>
    public string PublicKey => Loaded().Public;

    /// <summary>The ledger's id: the SHA-256 of its public key.</summary>
    public string Fingerprint => ExportSignature.Fingerprint(Convert.FromBase64String(PublicKey));

    public string Sign(byte[] statement) => ExportSignature.Sign(Loaded().Key, statement);

    /// <summary>Loads (or makes) the key now, so that a problem is one clear line at start-up; returns it, or null.</summary>
    public string? TryLoad()
    {
        try
        {
            Loaded();
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or CryptographicException
                                       or FormatException or ArgumentException)
        {
            return ex.Message;
        }
    }

    private (ECDsa Key, string Public) Loaded()
    {
        lock (gate)
        {
            if (key is null)
            {
                var loaded = Load();
                if (loaded.KeySize != 256)
                    throw new InvalidOperationException($"The ledger's signing key is a {loaded.KeySize}-bit key; it must be ECDSA P-256.");
                publicKey = Convert.ToBase64String(loaded.ExportSubjectPublicKeyInfo());
                key = loaded;
            }
            return (key, publicKey!);
        }
    }

    private ECDsa Load()
    {
        var ledger = options.Value;
        if (ledger.SigningKey is { Length: > 0 } given) return Read(given, "Ledger:SigningKey");
        var file = ledger.SigningKeyFile is { Length: > 0 } configured ? configured
            : database.EmbeddedDataDirectory is { } data ? data.TrimEnd('/') + ".signing-key"
            : throw new InvalidOperationException(
                "The ledger signs the studies it exports, and a team's Servers share its key: set Ledger__SigningKeyFile to a file holding it " +
                "(made when missing) or Ledger__SigningKey to the key itself (PEM). Make one with: " +
                "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ledger-signing-key.pem (docs/operations.md, team deployment).");
        if (!File.Exists(file)) Create(file);
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite
                                                                          | UnixFileMode.OtherWrite)) != 0)
            throw new InvalidOperationException($"The ledger's signing key {file} can be read or written by other users: chmod 600 it.");
        return Read(File.ReadAllText(file), file);
    }

    private static ECDsa Read(string text, string where)
    {
        var key = ECDsa.Create();
        try
        {
            if (text.Contains("-----BEGIN", StringComparison.Ordinal)) key.ImportFromPem(text);
            else
            {
                // Base64 DER: PKCS#8, or the EC key itself (SEC 1), as openssl writes one or the other.
                var der = Convert.FromBase64String(text.Trim());
                try
                {
                    key.ImportPkcs8PrivateKey(der, out _);
                }
                catch (CryptographicException)
                {
                    key.ImportECPrivateKey(der, out _);
                }
            }
            return key;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException or FormatException)
        {
            key.Dispose();
            throw new InvalidOperationException($"{where} holds no ECDSA private key the ledger can read (PEM, or base64 DER): {ex.Message}");
        }
    }

    /// <summary>A new key in a new file, readable by this user alone from the moment it exists.</summary>
    private void Create(string file)
    {
        using var made = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = made.ExportPkcs8PrivateKeyPem();
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using var stream = new FileStream(file, create);
            using var writer = new StreamWriter(stream);
            writer.Write(pem);
        }
        catch (IOException) when (File.Exists(file))
        {
            return; // another Server on this machine made it first: that one is the key
        }
        log.LogWarning("Made the ledger's signing key in {File}: keep a copy with the ledger's backups (exports it signed are " +
                       "proven by it), and give its public key to the ledgers that import from this one", file);
    }

    public void Dispose() => key?.Dispose();
}

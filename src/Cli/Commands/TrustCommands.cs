using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli.Commands;

/// <summary>
/// <c>ledger identity</c>: this ledger's public key and fingerprint, what another ledger's admin trusts (<c>ledger trust add</c>
/// there) so that the studies this one exports import there as of verified origin.
/// </summary>
public sealed class IdentityCommand : LedgerCommand<LedgerSettings>
{
    protected override async Task<int> RunAsync(LedgerClient client, LedgerSettings settings, CancellationToken cancel)
    {
        var identity = await client.GetLedgerIdentityAsync(cancel);
        return Answer(settings, identity, () =>
        {
            Io.Out.WriteLine($"Ledger {identity["fingerprint"]} ({identity["algorithm"]}). Its public key, for the ledgers that import from " +
                             "it (ledger trust add NAME KEY there):");
            Io.Out.WriteLine(identity["publicKey"]!.GetValue<string>());
        });
    }
}

/// <summary><c>ledger trust add NAME KEY</c> (admins): studies signed by that key import as of verified origin, named NAME.</summary>
public sealed class TrustAddCommand : LedgerCommand<TrustAddCommand.Settings>
{
    public sealed class Settings : LedgerSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("What this ledger calls the other (pages and verify say it)")]
        public string Name { get; set; } = "";

        [CommandArgument(1, "<KEY>")]
        [Description("The other ledger's public key, as `ledger identity` prints it there")]
        public string Key { get; set; } = "";
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        var trusted = await client.TrustLedgerAsync(settings.Name, settings.Key, cancel);
        return Answer(settings, trusted,
            $"Ledger {trusted["fingerprint"]} is trusted as '{trusted["name"]}': the studies it signs import as of verified origin.");
    }
}

/// <summary><c>ledger trust list</c> (admins): the ledgers whose signed exports this one takes as of verified origin.</summary>
public sealed class TrustListCommand : LedgerCommand<LedgerSettings>
{
    protected override async Task<int> RunAsync(LedgerClient client, LedgerSettings settings, CancellationToken cancel)
    {
        var trusted = await client.ListTrustedLedgersAsync(cancel);
        return List(settings, trusted, "This ledger trusts no other ledger's key yet (ledger trust add NAME KEY).", ["fingerprint", "name", "added", "by"],
            t => [t!["fingerprint"]?.ToString(), t["name"]?.ToString(), t["addedAt"]?.ToString(), t["addedBy"]?.ToString()]);
    }
}

/// <summary><c>ledger trust remove FINGERPRINT</c> (admins): imports already recorded keep what they said.</summary>
public sealed class TrustRemoveCommand : LedgerCommand<TrustRemoveCommand.Settings>
{
    public sealed class Settings : LedgerSettings
    {
        [CommandArgument(0, "<FINGERPRINT>")]
        [Description("The trusted ledger's fingerprint (ledger trust list shows them)")]
        public string Fingerprint { get; set; } = "";
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        await client.UntrustLedgerAsync(settings.Fingerprint, cancel);
        return Answer(settings, new { fingerprint = settings.Fingerprint, trusted = false },
            $"Ledger {settings.Fingerprint} is no longer trusted (imports already recorded keep what they said).");
    }
}

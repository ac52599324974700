using System.ComponentModel;
using ScalingLedger.Contracts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ScalingLedger.Cli.Commands;

/// <summary><c>ledger tokens create --user U --role R</c> (admins): a token, whose secret is printed this once.</summary>
public sealed class TokensCreateCommand : LedgerCommand<TokensCreateCommand.Settings>
{
    public sealed class Settings : LedgerSettings
    {
        [CommandOption("--user <NAME>")]
        [Description("Who the token is for (recorded on what they do)")]
        public string? User { get; set; }

        [CommandOption("--role <ROLE>")]
        [Description("reader, researcher or admin (default researcher)")]
        public string Role { get; set; } = LedgerRoles.Researcher;

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(User) ? ValidationResult.Error("Name whom the token is for: --user NAME.") : base.Validate();
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        var made = await client.CreateTokenAsync(settings.User!, settings.Role, cancel);
        return Answer(settings, made, () =>
        {
            Io.Out.WriteLine($"Token {made["id"]} for {made["subject"]} ({made["role"]}). Its secret, shown this once:");
            Io.Out.WriteLine(made["token"]!.GetValue<string>());
        });
    }
}

/// <summary><c>ledger tokens list</c> (admins): every token made, never their secrets.</summary>
public sealed class TokensListCommand : LedgerCommand<LedgerSettings>
{
    protected override async Task<int> RunAsync(LedgerClient client, LedgerSettings settings, CancellationToken cancel)
    {
        var tokens = await client.ListTokensAsync(cancel);
        return List(settings, tokens, "No token has been made yet (ledger tokens create --user NAME makes one).",
            ["id", "user", "role", "made", "by", "revoked"],
            t => [t!["id"]?.ToString(), t["subject"]?.ToString(), t["role"]?.ToString(), t["createdAt"]?.ToString(), t["createdBy"]?.ToString(),
                t["revokedAt"]?.ToString()]);
    }
}

/// <summary><c>ledger tokens revoke ID</c> (admins): the token and its site sessions stop working at once.</summary>
public sealed class TokensRevokeCommand : LedgerCommand<TokensRevokeCommand.Settings>
{
    public sealed class Settings : LedgerSettings
    {
        [CommandArgument(0, "<ID>")]
        [Description("The token's id (ledger tokens list shows them)")]
        public string Id { get; set; } = "";
    }

    protected override async Task<int> RunAsync(LedgerClient client, Settings settings, CancellationToken cancel)
    {
        await client.RevokeTokenAsync(settings.Id, cancel);
        return Answer(settings, new { id = settings.Id, revoked = true }, $"Token {settings.Id} is revoked.");
    }
}

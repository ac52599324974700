namespace ScalingLedger.Server.Access;

/// <summary>The authorization policies, by name.</summary>
public static class LedgerPolicies
{
    /// <summary>Any signed-in user (every role).</summary>
    public const string Read = "ledger-read";
    /// <summary>Define and import studies: researchers and admins.</summary>
    public const string Write = "ledger-write";
    /// <summary>Tokens: admins.</summary>
    public const string Admin = "ledger-admin";
}

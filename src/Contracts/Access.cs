namespace ScalingLedger.Contracts;

/// <summary>
/// The roles a token carries and the policies the endpoints ask for. Readers read; researchers also define and import
/// studies (and manage their own); admins do everything, manage tokens and see failure details.
/// </summary>
public static class LedgerRoles
{
    public const string Reader = "reader";
    public const string Researcher = "researcher";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Reader, Researcher, Admin];

    public static bool IsKnown(string? role) => role is not null && All.Contains(role);
}

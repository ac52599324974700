namespace ScalingLedger.Server.Store;

/// <summary>
/// <c>database start DIR</c> / <c>database stop DIR</c>: a PostgreSQL cluster for several Servers (the team topology,
/// scripts/team.sh), made and run exactly as a Server's embedded one (loopback, a free port, a generated password in
/// <c>DIR.password</c>) but left running when the command ends. <c>start</c> prints the ledger database's connection string.
/// </summary>
public static class DatabaseCommand
{
    public static async Task<int> RunAsync(string verb, string dataDirectory, string database, TextWriter output, TextWriter errors)
    {
        void Log(string message) => errors.WriteLine(message);
        try
        {
            switch (verb)
            {
                case "start":
                    var pg = await EmbeddedPostgres.StartAsync(dataDirectory, database, Log);
                    pg.Detach();
                    output.WriteLine(pg.ConnectionString(database));
                    return 0;
                case "stop":
                    await EmbeddedPostgres.StopClusterAsync(dataDirectory, Log);
                    return 0;
                default:
                    errors.WriteLine($"Unknown database command '{verb}': use 'database start DIR' or 'database stop DIR'.");
                    return 2;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception
                                       or Npgsql.NpgsqlException)
        {
            errors.WriteLine($"database {verb} {dataDirectory}: {ex.Message}");
            return 1;
        }
    }
}

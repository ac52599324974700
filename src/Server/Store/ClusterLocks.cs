using Npgsql;

namespace ScalingLedger.Server.Store;

/// <summary>
/// Roles that one Server of a cluster holds at a time (reconciling the trials, resuming studies at start): a PostgreSQL
/// session advisory lock, held on a connection of its own, never pooled, so that the role lives exactly as long as that
/// connection (a Server that dies gives it up with its connection).
/// </summary>
public static class ClusterLocks
{
    public const long Reconciler = 0x5CA1_1ED6_E000_0001;
    public const long Recovery = 0x5CA1_1ED6_E000_0002;

    /// <summary>The connection that holds the role now, or null when another Server holds it.</summary>
    public static async Task<NpgsqlConnection?> TryTakeAsync(string connectionString, long key, CancellationToken cancel)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(cancel);
            await using var take = new NpgsqlCommand("select pg_try_advisory_lock(@key)", connection);
            take.Parameters.AddWithValue("key", key);
            if (await take.ExecuteScalarAsync(cancel) is true) return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace ScalingLedger.Server.Infrastructure;

/// <summary>
/// A private PostgreSQL cluster started from the machine's binaries: loopback only, a free port, a data directory
/// kept between runs. Works as an ordinary user and as root (the server processes then run as the
/// <c>postgres</c> OS user, which owns the data directory).
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string SuperUser = "postgres";
    private readonly string binDir;
    private readonly bool asRoot;
    private readonly Action<string> log;
    private bool startedHere;

    private EmbeddedPostgres(string dataDirectory, string binDir, Action<string> log)
    {
        DataDirectory = dataDirectory;
        this.binDir = binDir;
        this.log = log;
        asRoot = Environment.UserName == "root" || geteuid() == 0;
    }

    public string DataDirectory { get; }
    public int Port { get; private set; }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = SuperUser, Database = database, Pooling = true,
    }.ConnectionString;

    /// <summary>The default data directory: under /var/lib for root (the postgres user must reach it), else the user's data home.</summary>
    public static string DefaultDataDirectory()
    {
        if (geteuid() == 0) return "/var/lib/scalingledger/postgres";
        var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(dataHome))
            dataHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(dataHome, "scalingledger", "postgres");
    }

    /// <summary>Finds the PostgreSQL server binaries: pg_config's bindir, then /usr/lib/postgresql/*/bin (newest first).</summary>
    public static string? FindBinaries()
    {
        var candidates = new List<string>();
        var env = Environment.GetEnvironmentVariable("LEDGER_PG_BIN");
        if (!string.IsNullOrEmpty(env)) candidates.Add(env);
        if (Directory.Exists("/usr/lib/postgresql"))
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        candidates.Add("/usr/local/pgsql/bin");
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    /// <summary>Initialises the cluster if needed, starts it (or reuses one still running from a crash) and creates <paramref name="database"/>.</summary>
    public static async Task<EmbeddedPostgres> StartAsync(string dataDirectory, string database, Action<string> log, CancellationToken cancel = default)
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "No PostgreSQL server binaries found (looked for initdb and pg_ctl under /usr/lib/postgresql/*/bin). " +
            "Install them with: apt-get install postgresql  (or set ConnectionStrings__Ledger to an existing server).");
        var pg = new EmbeddedPostgres(Path.GetFullPath(dataDirectory), bin, log);
        await pg.StartAsync(database, cancel);
        return pg;
    }

    private async Task StartAsync(string database, CancellationToken cancel)
    {
        PrepareDirectory();
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            log($"Creating the ledger's PostgreSQL cluster in {DataDirectory}");
            await RunAsync("initdb", ["-D", DataDirectory, "-U", SuperUser, "--auth-local=trust", "--auth-host=trust",
                "-E", "UTF8", "--locale=C.UTF-8"], cancel);
        }

        if (RunningPort() is { } port && await CanConnect(port, cancel))
        {
            Port = port;
            log($"Reusing the ledger's PostgreSQL still running on 127.0.0.1:{Port} ({DataDirectory})");
        }
        else
        {
            Port = FreePort();
            var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200";
            await RunAsync("pg_ctl", ["-D", DataDirectory, "-o", options, "-l", Path.Combine(DataDirectory, "server.log"), "-w", "-t", "60", "start"], cancel);
            startedHere = true;
            log($"Started the ledger's PostgreSQL on 127.0.0.1:{Port} ({DataDirectory})");
        }
        await CreateDatabaseAsync(database, cancel);
    }

    public async Task CreateDatabaseAsync(string database, CancellationToken cancel = default)
    {
        await using var conn = new NpgsqlConnection(ConnectionString("postgres"));
        await conn.OpenAsync(cancel);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = @n", conn);
        exists.Parameters.AddWithValue("n", database);
        if (await exists.ExecuteScalarAsync(cancel) is null)
        {
            await using var create = new NpgsqlCommand($"create database \"{database.Replace("\"", "\"\"")}\"", conn);
            await create.ExecuteNonQueryAsync(cancel);
        }
    }

    /// <summary>Stops the cluster if this process started it (a fast shutdown: in-flight transactions roll back).</summary>
    public async Task StopAsync()
    {
        if (!startedHere) return;
        startedHere = false;
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"], CancellationToken.None);
            log($"Stopped the ledger's PostgreSQL ({DataDirectory})");
        }
        catch (Exception ex)
        {
            log($"Could not stop PostgreSQL cleanly: {ex.Message}");
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private void PrepareDirectory()
    {
        Directory.CreateDirectory(DataDirectory);
        if (!asRoot || OperatingSystem.IsWindows()) return;
        // As root the cluster runs as the postgres OS user, which must own the directory and reach it.
        Run("chown", ["-R", $"{SuperUser}:{SuperUser}", DataDirectory]);
        Run("chmod", ["700", DataDirectory]);
        for (var dir = Path.GetDirectoryName(DataDirectory); dir is not null && dir != "/"; dir = Path.GetDirectoryName(dir))
        {
            var mode = File.GetUnixFileMode(dir);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
                throw new InvalidOperationException(
                    $"The PostgreSQL data directory {DataDirectory} is inside {dir}, which the postgres user cannot enter. " +
                    "Choose another Ledger__DataDirectory (the default for root is /var/lib/scalingledger/postgres).");
        }
    }

    private int? RunningPort()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile)) return null;
        var lines = File.ReadAllLines(pidFile);
        if (lines.Length < 4 || !int.TryParse(lines[0], out var pid) || !int.TryParse(lines[3], out var port)) return null;
        try
        {
            return Process.GetProcessById(pid).HasExited ? null : port;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static async Task<bool> CanConnect(int port, CancellationToken cancel)
    {
        try
        {
            await using var conn = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username={SuperUser};Database=postgres;Pooling=false;Timeout=3");
            await conn.OpenAsync(cancel);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task RunAsync(string tool, string[] args, CancellationToken cancel)
    {
        var exe = Path.Combine(binDir, tool);
        var psi = asRoot ? new ProcessStartInfo("runuser", ["-u", SuperUser, "--", exe, .. args]) : new ProcessStartInfo(exe, args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.WorkingDirectory = "/";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {exe}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancel);
        var stderr = process.StandardError.ReadToEndAsync(cancel);
        await process.WaitForExitAsync(cancel);
        if (process.ExitCode != 0)
        {
            var logTail = File.Exists(Path.Combine(DataDirectory, "server.log")) && tool == "pg_ctl"
                ? string.Join('\n', (await SafeReadLines(Path.Combine(DataDirectory, "server.log"))).TakeLast(10))
                : "";
            throw new InvalidOperationException($"{tool} failed (exit {process.ExitCode}): {(await stderr).Trim()} {(await stdout).Trim()} {logTail}".Trim());
        }
    }

    private static async Task<string[]> SafeReadLines(string path)
    {
        try { return await File.ReadAllLinesAsync(path); }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    private static void Run(string exe, string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardError = true })
            ?? throw new InvalidOperationException($"Could not start {exe}.");
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed: {p.StandardError.ReadToEnd()}");
    }

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}

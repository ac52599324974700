using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace ScalingLedger.Server.Store;

/// <summary>
/// A private PostgreSQL cluster started from the machine's binaries: loopback only, a free port, a data directory
/// kept between runs. Works as an ordinary user and as root (the server processes then run as the
/// <c>postgres</c> OS user, which owns the data directory). Every connection needs the cluster's password
/// (scram-sha-256), generated when the cluster is made and kept beside the data directory with mode 0600
/// (<see cref="PasswordFile"/>); a cluster made by an earlier version, which trusted every local user, is given one
/// on its next start.
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

    private string password = "";

    /// <summary>The file holding the cluster's password: beside the data directory, readable by this user alone.</summary>
    public string PasswordFile => DataDirectory.TrimEnd('/') + ".password";

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = SuperUser, Password = password, Database = database, Pooling = true,
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
        password = ReadOrCreatePassword();
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            log($"Creating the ledger's PostgreSQL cluster in {DataDirectory} (its password is in {PasswordFile})");
            // initdb reads the password from a file the cluster's OS user can read, removed at once.
            var scratch = Directory.CreateTempSubdirectory("scalingledger-initdb-");
            try
            {
                var pwfile = Path.Combine(scratch.FullName, "pw");
                File.WriteAllText(pwfile, password);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(pwfile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                if (asRoot) Run("chown", ["-R", $"{SuperUser}:{SuperUser}", scratch.FullName]);
                await RunAsync("initdb", ["-D", DataDirectory, "-U", SuperUser, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                    $"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8"], cancel);
            }
            finally
            {
                scratch.Delete(recursive: true);
            }
        }
        var trusting = Trusting();

        if (RunningPort() is { } port && await CanConnect(port, password, cancel))
        {
            Port = port;
            // A cluster whose Server died without stopping it (kill -9) is adopted: this process stops it when it stops.
            // One whose Server still runs is shared and left to it.
            startedHere = !OwnerAlive();
            log(startedHere
                ? $"Adopting the ledger's PostgreSQL left running on 127.0.0.1:{Port} by a Server that stopped without stopping it ({DataDirectory})"
                : $"Reusing the ledger's PostgreSQL running on 127.0.0.1:{Port} for another Server ({DataDirectory})");
        }
        else
        {
            // The port of the last start when it is free: a cluster restarted under running Servers is found where it was.
            Port = PreviousPort() is { } previous && IsFree(previous) ? previous : FreePort();
            File.WriteAllText(PortFile, Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200";
            await RunAsync("pg_ctl", ["-D", DataDirectory, "-o", options, "-l", Path.Combine(DataDirectory, "server.log"), "-w", "-t", "60", "start"], cancel);
            startedHere = true;
            log($"Started the ledger's PostgreSQL on 127.0.0.1:{Port} ({DataDirectory})");
        }
        if (startedHere) File.WriteAllText(OwnerFile, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (trusting) await RequirePasswordAsync(cancel);
        await CreateDatabaseAsync(database, cancel);
    }

    private const string PasswordOnly =
        "# Written by ScalingLedger: every connection needs the cluster's password (see the .password file beside the data directory).\n" +
        "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n";

    private string HbaFile => Path.Combine(DataDirectory, "pg_hba.conf");

    /// <summary>Whether the cluster still lets someone in without a password (made by an earlier version of the ledger).</summary>
    private bool Trusting() => File.ReadAllLines(HbaFile).Select(l => l.Split('#')[0].Trim())
        .Any(l => l.Length > 0 && l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } f && f[^1] == "trust");

    /// <summary>Gives a trusting cluster its password and makes it ask for it (the data stays as it is).</summary>
    private async Task RequirePasswordAsync(CancellationToken cancel)
    {
        log($"The ledger's PostgreSQL trusted every local user: it now asks for its password ({PasswordFile})");
        await using (var conn = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await conn.OpenAsync(cancel);
            // The password is hex: nothing in it needs quoting.
            await using var alter = new NpgsqlCommand($"set password_encryption = 'scram-sha-256'; alter role {SuperUser} password '{password}'", conn);
            await alter.ExecuteNonQueryAsync(cancel);
            File.WriteAllText(HbaFile, PasswordOnly);
            await using var reload = new NpgsqlCommand("select pg_reload_conf()", conn);
            await reload.ExecuteNonQueryAsync(cancel);
        }
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>The cluster's password: read from <see cref="PasswordFile"/>, or made (32 random bytes, hex) with mode 0600.</summary>
    private string ReadOrCreatePassword()
    {
        if (File.Exists(PasswordFile))
        {
            if (!OperatingSystem.IsWindows()
                && (File.GetUnixFileMode(PasswordFile) & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0)
                File.SetUnixFileMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return File.ReadAllText(PasswordFile).Trim();
        }
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")) && !Trusting())
            throw new InvalidOperationException(
                $"The ledger's PostgreSQL in {DataDirectory} asks for a password, but its password file {PasswordFile} is missing. " +
                "Restore the file, or choose another Ledger__DataDirectory.");
        var made = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(PasswordFile, create))
        using (var writer = new StreamWriter(file))
            writer.Write(made);
        return made;
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
            File.Delete(OwnerFile);
        }
        catch (Exception ex)
        {
            log($"Could not stop PostgreSQL cleanly: {ex.Message}");
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>Leaves the cluster running when this process stops (the team topology's database, stopped by <see cref="StopClusterAsync"/>).</summary>
    public void Detach()
    {
        startedHere = false;
        File.Delete(OwnerFile);
    }

    /// <summary>Stops the cluster in <paramref name="dataDirectory"/> if it runs (whoever started it).</summary>
    public static async Task StopClusterAsync(string dataDirectory, Action<string> log)
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException("No PostgreSQL server binaries found (apt-get install postgresql).");
        var pg = new EmbeddedPostgres(Path.GetFullPath(dataDirectory), bin, log);
        if (pg.RunningPort() is null)
        {
            log($"No PostgreSQL runs in {pg.DataDirectory}");
            return;
        }
        pg.startedHere = true;
        await pg.StopAsync();
        File.Delete(pg.OwnerFile);
    }

    /// <summary>The process that stops the cluster when it stops (absent when none does).</summary>
    private string OwnerFile => DataDirectory.TrimEnd('/') + ".owner";

    private bool OwnerAlive()
    {
        if (!File.Exists(OwnerFile) || !int.TryParse(File.ReadAllText(OwnerFile).Trim(), out var pid)) return false;
        if (pid == Environment.ProcessId) return true; // another host in this process (tests)
        try
        {
            using var owner = Process.GetProcessById(pid);
            return !owner.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

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

    private static async Task<bool> CanConnect(int port, string password, CancellationToken cancel)
    {
        try
        {
            await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1", Port = port, Username = SuperUser, Password = password, Database = "postgres", Pooling = false, Timeout = 3,
            }.ConnectionString);
            await conn.OpenAsync(cancel);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }

    private string PortFile => DataDirectory.TrimEnd('/') + ".port";

    private int? PreviousPort() => File.Exists(PortFile) && int.TryParse(File.ReadAllText(PortFile).Trim(), out var port) ? port : null;

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
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

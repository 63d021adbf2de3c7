using System.Diagnostics;
using System.Text;
using AgentVerse.Testing;
using Npgsql;

namespace AgentVerse.Runtime.Tests.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster for tests: <c>initdb</c> into a temp directory, <c>pg_ctl start</c> on a free
/// 127.0.0.1 port (unix socket inside the temp directory), stopped and deleted on dispose. Use it as an xUnit
/// collection fixture (<c>[Collection(PostgresTests.Name)]</c>). Missing binaries fail loudly, never skip.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    private const string Superuser = "postgres";
    private static int s_databaseCounter;

    private DirectoryInfo? _root;
    private string? _binDirectory;
    private bool _runAsPostgresUser;

    public int Port { get; private set; }

    /// <summary>Connection string of the default test database (<c>agentverse_test</c>).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>Connection string without a database, for building others.</summary>
    public NpgsqlConnectionStringBuilder ServerConnection => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = "postgres",
        Pooling = true,
        // Tests start many data sources; keep each pool small so the cluster's max_connections suffices.
        MaxPoolSize = 20,
        Timeout = 30,
    };

    public string DataDirectory => Path.Combine(_root!.FullName, "data");

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            // xUnit does not dispose a fixture whose initialisation failed: stop and delete what was started.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        _binDirectory = FindBinaries();
        _runAsPostgresUser = Environment.UserName == "root" || Environment.IsPrivilegedProcess;

        _root = Directory.CreateTempSubdirectory("av-pg-");
        var socketDirectory = Path.Combine(_root.FullName, "sock");
        Directory.CreateDirectory(socketDirectory);
        if (_runAsPostgresUser)
        {
            // PostgreSQL refuses to run as root: hand the directory to the postgres OS user.
            await EnsurePostgresUserAsync();
            await RunAsync("chown", ["-R", $"{Superuser}:", _root.FullName], asPostgres: false);
        }

        await RunAsync(Path.Combine(_binDirectory, "initdb"),
            ["-D", DataDirectory, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], asPostgres: _runAsPostgresUser);

        // Another process may grab the port between probing and binding: retry with a new one.
        for (var attempt = 1; ; attempt++)
        {
            Port = LoopbackPorts.Take();
            var options = $"-p {Port} -k {socketDirectory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                + "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB";
            try
            {
                await RunAsync(Path.Combine(_binDirectory, "pg_ctl"),
                    ["-D", DataDirectory, "-l", Path.Combine(_root.FullName, "server.log"), "-o", options, "-w", "-t", "60", "start"], asPostgres: _runAsPostgresUser);
                break;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException(ex.Message + Environment.NewLine + "server.log:" + Environment.NewLine + ReadLog(), ex);
            }
        }

        ConnectionString = await CreateDatabaseAsync("agentverse_test");
    }

    /// <summary>Creates a fresh database (a unique name unless given) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        name ??= $"test_{Environment.ProcessId}_{Interlocked.Increment(ref s_databaseCounter)}";
        await using (var connection = new NpgsqlConnection(ServerConnection.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return new NpgsqlConnectionStringBuilder(ServerConnection.ConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            if (_binDirectory is not null && _root is not null && File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], asPostgres: _runAsPostgresUser);
            }
        }
        finally
        {
            try
            {
                _root?.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A straggling server process still writing: the OS temp cleaner gets it.
            }
        }
    }

    private static string FindBinaries()
    {
        static bool HasInitdb(string? dir) => !string.IsNullOrEmpty(dir) && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

        // 1. pg_config --bindir (Debian's pg_config may point at a directory without initdb, hence the check).
        try
        {
            using var pgConfig = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (pgConfig is not null)
            {
                var output = pgConfig.StandardOutput.ReadToEnd().Trim();
                pgConfig.WaitForExit();
                if (pgConfig.ExitCode == 0 && HasInitdb(output)) return output;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // pg_config not installed
        }

        // 2. Debian/Ubuntu layout, newest version first.
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var newest = Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(HasInitdb)
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null) return newest;
        }

        // 3. initdb on PATH.
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (HasInitdb(dir)) return dir;
        }

        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found via `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH. "
            + "The Postgres state store tests need them: install with `apt-get update && apt-get install -y postgresql` "
            + "(Debian/Ubuntu) and run the tests again.");
    }

    private static async Task EnsurePostgresUserAsync()
    {
        var (exit, _) = await TryRunAsync("id", ["-u", Superuser], asPostgres: false);
        if (exit != 0) await RunAsync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", Superuser], asPostgres: false);
    }

    private string ReadLog()
    {
        try
        {
            var log = Path.Combine(_root!.FullName, "server.log");
            return File.Exists(log) ? File.ReadAllText(log) : "(no server.log)";
        }
        catch (IOException ex)
        {
            return ex.Message;
        }
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> args, bool asPostgres)
    {
        var (exit, output) = await TryRunAsync(file, args, asPostgres);
        if (exit != 0)
            throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` exited with {exit}:{Environment.NewLine}{output}");
    }

    private static async Task<(int ExitCode, string Output)> TryRunAsync(string file, IReadOnlyList<string> args, bool asPostgres)
    {
        var info = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // The server outlives this call; it must not inherit our stdout pipe or the read below never ends.
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", Superuser, "--", file }) info.ArgumentList.Add(a);
        }
        foreach (var a in args) info.ArgumentList.Add(a);

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        // pg_ctl's server child keeps the pipes open only if it inherited them; -l sends its output to the log.
        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }
}

/// <summary>The xUnit collection that shares one <see cref="PostgresCluster"/> across test classes.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresTests : ICollectionFixture<PostgresCluster>
{
    public const string Name = "Postgres";
}

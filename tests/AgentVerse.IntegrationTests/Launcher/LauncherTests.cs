using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using AgentVerse.Runtime;
using AgentVerse.Testing;

namespace AgentVerse.IntegrationTests.Launcher;

/// <summary>The real launcher, as a process, running small run files.</summary>
public sealed class LauncherTests : IDisposable
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private static readonly string NodeApp = Path.Combine(RepoPaths.Root, "tests", "AgentVerse.IntegrationTests", "Launcher", "node-app");
    private readonly TempDir _dir = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        _http.Dispose();
        _dir.Dispose();
    }

    private void InMemoryComponents() => _dir.Write("components/statestore.yaml", ComponentYaml.InMemoryState);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task A_taken_port_fails_the_run_naming_the_app_and_the_port(string squatterAddress)
    {
        using var squatter = new TcpListener(IPAddress.Parse(squatterAddress), 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        _dir.Dir("orders");
        _dir.Write("dapr.yaml", $"version: 1\napps:\n  - appID: orders\n    appDirPath: orders\n    daprHTTPPort: {port}\n");

        var (code, output) = await CliProcess.RunAsync(_dir.Path, Startup, "run", "-f", _dir.Path);

        Assert.NotEqual(0, code);
        Assert.Contains($"app 'orders': daprHTTPPort {port} is already in use", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_run_file_fails_the_run_with_the_reason()
    {
        _dir.Dir("orders");
        _dir.Write("dapr.yaml", "version: 1\napps:\n  - appID: orders\n    appDirPath: orders\n    appPort: lots\n");

        var (code, output) = await CliProcess.RunAsync(_dir.Path, Startup, "run", "-f", Path.Combine(_dir.Path, "dapr.yaml"));

        Assert.Equal(1, code);
        Assert.Contains("'apps[0] (appID 'orders').appPort' must be an integer, got 'lots'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_component_fails_the_run_naming_the_file_and_the_field()
    {
        _dir.Dir("orders");
        _dir.Write("components/statestore.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.sqlite
              version: v1
              metadata: []
            """);
        _dir.Write("dapr.yaml", "version: 1\napps:\n  - appDirPath: orders\n");

        var (code, output) = await CliProcess.RunAsync(_dir.Path, Startup, "run", "-f", _dir.Path);

        Assert.Equal(1, code);
        Assert.Contains("agentverse: error: cannot load resources:", output, StringComparison.Ordinal);
        Assert.Contains("statestore.yaml", output, StringComparison.Ordinal);
        Assert.Contains("connectionString", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_app_that_exits_early_stops_the_run_with_a_non_zero_exit_code()
    {
        _dir.Dir("crasher");
        _dir.Dir("sleeper");
        _dir.Write("dapr.yaml", """
            version: 1
            apps:
              - appDirPath: crasher
                command: ["node", "-e", "console.log('crasher started'); setTimeout(() => process.exit(3), 300)"]
              - appDirPath: sleeper
                command: ["node", "-e", "setInterval(() => {}, 1000)"]
            """);

        var (code, output) = await CliProcess.RunAsync(_dir.Path, Startup, "run", "-f", _dir.Path);

        Assert.Equal(1, code);
        Assert.Contains("== APP - crasher == crasher started", output, StringComparison.Ordinal);
        Assert.Contains("app 'crasher' exited with code 3 before the run was stopped", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_that_cannot_start_fails_the_run()
    {
        _dir.Dir("ghost");
        _dir.Write("dapr.yaml", "version: 1\napps:\n  - appDirPath: ghost\n    command: [\"no-such-program-agentverse\"]\n");

        var (code, output) = await CliProcess.RunAsync(_dir.Path, Startup, "run", "-f", _dir.Path);

        Assert.NotEqual(0, code);
        Assert.Contains("'ghost'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_app_gets_the_dapr_environment_reaches_its_sidecar_and_stops_gracefully()
    {
        InMemoryComponents();
        var appPort = LoopbackPorts.Take();
        _dir.Write("dapr.yaml", $$"""
            version: 1
            common:
              env:
                SHARED: from-common
            apps:
              - appID: node
                appDirPath: {{NodeApp}}
                appPort: {{appPort}}
                command: ["node", "server.js"]
                appLogDestination: console
                enableAppHealthCheck: true
                appHealthCheckPath: /healthz
                env:
                  GREETING: hello
            """);
        await using var cli = CliProcess.Start(_dir.Path, "run", "-f", _dir.Path);

        var ready = await cli.WaitForLineAsync("agentverse: node ready at", Startup);
        var env = await _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{appPort}/env");
        var state = await _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{appPort}/state");
        cli.Terminate();
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Contains($"http://127.0.0.1:{appPort}", ready, StringComparison.Ordinal);
        Assert.Equal("node", env.GetProperty("APP_ID").GetString());
        Assert.Equal(appPort.ToString(System.Globalization.CultureInfo.InvariantCulture), env.GetProperty("APP_PORT").GetString());
        Assert.Equal("127.0.0.1", env.GetProperty("APP_CHANNEL_ADDRESS").GetString());
        Assert.Equal("hello", env.GetProperty("GREETING").GetString());
        Assert.Equal("from-common", env.GetProperty("SHARED").GetString());
        Assert.Equal(NodeApp, env.GetProperty("cwd").GetString());
        Assert.Contains($"sidecar http {env.GetProperty("DAPR_HTTP_PORT").GetString()}, grpc {env.GetProperty("DAPR_GRPC_PORT").GetString()}", ready, StringComparison.Ordinal);
        Assert.Equal(204, state.GetProperty("saveStatus").GetInt32());
        Assert.Equal("node", state.GetProperty("value").GetProperty("from").GetString());
        Assert.Contains("== APP - node == node app listening on", cli.Output, StringComparison.Ordinal);
        Assert.Contains("== APP - node == node app got SIGTERM", cli.Output, StringComparison.Ordinal);
        Assert.Equal(0, code);
        await Assert.ThrowsAsync<HttpRequestException>(() => _http.GetAsync(new Uri($"http://127.0.0.1:{appPort}/healthz")));
    }

    [Fact]
    public async Task An_app_that_ignores_SIGTERM_is_killed_with_its_children_after_the_grace_period()
    {
        _dir.Dir("stubborn");
        _dir.Write("stubborn/app.js", """
            const { spawn } = require('child_process');
            const child = spawn('sleep', ['300'], { stdio: 'ignore' });
            process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
            console.log(`pids ${process.pid} ${child.pid}`);
            setInterval(() => {}, 1000);
            """);
        _dir.Write("dapr.yaml", "version: 1\napps:\n  - appDirPath: stubborn\n    appLogDestination: console\n    command: [\"node\", \"app.js\"]\n");
        await using var cli = CliProcess.Start(_dir.Path, "run", "-f", _dir.Path, "--stop-grace", "1");
        var pids = (await cli.WaitForLineAsync("== APP - stubborn == pids", Startup)).Split(' ')[^2..].Select(int.Parse).ToList();
        await cli.WaitForLineAsync("agentverse: all 1 app(s) ready", Startup);

        cli.Terminate();
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, code);
        Assert.Contains("ignoring SIGTERM", cli.Output, StringComparison.Ordinal);
        Assert.All(pids, pid => Assert.False(IsRunning(pid), $"process {pid} survived the stop"));
    }

    private CliProcess StartJsonLogger(int appPort, params string[] options)
    {
        _dir.Write("dapr.yaml", $$"""
            version: 1
            apps:
              - appID: logger
                appDirPath: {{NodeApp}}
                appPort: {{appPort}}
                command: ["node", "json-logs.js"]
                appLogDestination: console
            """);
        return CliProcess.Start(_dir.Path, ["run", "-f", _dir.Path, .. options]);
    }

    [Fact]
    public async Task With_log_format_text_json_log_lines_show_as_time_app_level_category_and_message()
    {
        var appPort = LoopbackPorts.Take();
        await using var cli = StartJsonLogger(appPort, "--log-format", "text", "--log-level", "Information");

        // The app logs in UTC; the launcher shows the time where it runs, as the test does.
        var time = DateTimeOffset.Parse("2026-12-02T00:11:55.106Z", System.Globalization.CultureInfo.InvariantCulture)
            .ToLocalTime().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        var critical = await cli.WaitForLineAsync("crit StartupLoaderService:", Startup);
        var plain = await cli.WaitForLineAsync("a plain line, not JSON", Startup);
        var sidecar = await cli.WaitForLineAsync("App logger is listening", Startup);
        await cli.WaitForLineAsync("agentverse: all 1 app(s) ready", Startup);
        cli.Terminate();
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        // The app column is as wide as the longest name, here 'runtime' (the sidecars' shared events).
        Assert.Equal($"{time} logger  crit StartupLoaderService: Cannot start: the signing key is missing", critical);
        Assert.Contains($"{critical}\n{new string(' ', 26)}System.InvalidOperationException: no key\n", cli.Output, StringComparison.Ordinal);
        Assert.Contains($"{time} logger  info Lifetime: Application started.", cli.Output, StringComparison.Ordinal);
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3} logger {7}a plain line, not JSON$", plain);
        Assert.Matches($@"^\d\d:\d\d:\d\d\.\d{{3}} logger  info Sidecar: App logger is listening on port {appPort}$", sidecar);
        Assert.DoesNotContain("== APP - ", cli.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"LogLevel\"", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_terminal_the_default_log_format_keeps_json_log_lines_raw_and_prefixed()
    {
        await using var cli = StartJsonLogger(LoopbackPorts.Take());

        var critical = await cli.WaitForLineAsync("\"LogLevel\":\"Critical\"", Startup);
        var plain = await cli.WaitForLineAsync("a plain line, not JSON", Startup);
        await cli.WaitForLineAsync("agentverse: all 1 app(s) ready", Startup);
        cli.Terminate();
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        Assert.StartsWith("""== APP - logger == {"Timestamp":"2026-12-02T00:11:55.106Z","EventId":0,"LogLevel":"Critical",""", critical, StringComparison.Ordinal);
        Assert.Equal("== APP - logger == a plain line, not JSON", plain);
        Assert.DoesNotContain("crit StartupLoaderService", cli.Output, StringComparison.Ordinal);
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_dapr_api_token_in_the_run_file_protects_the_sidecar_and_reaches_the_app()
    {
        InMemoryComponents();
        var appPort = LoopbackPorts.Take();
        var httpPort = LoopbackPorts.Take();
        _dir.Write("dapr.yaml", $$"""
            version: 1
            apps:
              - appID: node
                appDirPath: {{NodeApp}}
                appPort: {{appPort}}
                daprHTTPPort: {{httpPort}}
                command: ["node", "server.js"]
                appLogDestination: console
                env:
                  DAPR_API_TOKEN: launcher-test-token
            """);
        await using var cli = CliProcess.Start(_dir.Path, "run", "-f", _dir.Path);
        await cli.WaitForLineAsync("agentverse: node ready at", Startup);

        var env = await _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{appPort}/env");
        var state = await _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{appPort}/state");
        using var withoutToken = await _http.GetAsync(new Uri($"http://127.0.0.1:{httpPort}/v1.0/metadata"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{httpPort}/v1.0/metadata");
        request.Headers.Add("dapr-api-token", "launcher-test-token");
        using var withToken = await _http.SendAsync(request);

        Assert.True(env.GetProperty("hasDaprApiToken").GetBoolean());
        Assert.Equal(204, state.GetProperty("saveStatus").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
    }

    [Fact]
    public async Task A_sidecar_shutdown_call_ends_the_run_cleanly()
    {
        InMemoryComponents();
        var httpPort = LoopbackPorts.Take();
        _dir.Dir("orders");
        _dir.Write("dapr.yaml", $"version: 1\napps:\n  - appID: orders\n    appDirPath: orders\n    daprHTTPPort: {httpPort}\n");
        await using var cli = CliProcess.Start(_dir.Path, "run", "-f", _dir.Path);
        await cli.WaitForLineAsync("agentverse: orders ready", Startup);

        // daprd exits on POST /v1.0/shutdown; here the whole run stops, as when the last daprd of a 'dapr run -f' exits.
        using var shutdown = await _http.PostAsync(new Uri($"http://127.0.0.1:{httpPort}/v1.0/shutdown"), null);

        Assert.Equal(HttpStatusCode.NoContent, shutdown.StatusCode);
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("app 'orders' asked its sidecar to shut down", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_in_the_local_sqlite_store_survives_a_killed_launcher()
    {
        var httpPort = LoopbackPorts.Take();
        _dir.Dir("store");
        _dir.Write("components/statestore.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.sqlite
              version: v1
              metadata:
              - name: connectionString
                value: "data/state.db"
            """);
        Directory.CreateDirectory(Path.Combine(_dir.Path, "data"));
        _dir.Write("dapr.yaml", $"version: 1\napps:\n  - appID: store\n    appDirPath: store\n    daprHTTPPort: {httpPort}\n");
        var items = Enumerable.Range(0, 50).Select(i => new { key = $"item-{i}", value = new { n = i, text = $"value {i}" } }).ToArray();
        var stateUrl = $"http://127.0.0.1:{httpPort}/v1.0/state/statestore";

        await using (var first = CliProcess.Start(_dir.Path, "run", "-f", _dir.Path))
        {
            await first.WaitForLineAsync("agentverse: store ready", Startup);
            using var saved = await _http.PostAsJsonAsync(stateUrl, items);
            Assert.Equal(HttpStatusCode.NoContent, saved.StatusCode);
            first.KillTree();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        await using var second = CliProcess.Start(_dir.Path, "run", "-f", _dir.Path);
        await second.WaitForLineAsync("agentverse: store ready", Startup);
        foreach (var item in items)
        {
            var value = await _http.GetFromJsonAsync<JsonElement>($"{stateUrl}/{item.key}");
            Assert.Equal(item.value.n, value.GetProperty("n").GetInt32());
            Assert.Equal(item.value.text, value.GetProperty("text").GetString());
        }

        Assert.True(File.Exists(Path.Combine(_dir.Path, "data", "state.db")), "the SQLite file lives beside the run file");
    }
}

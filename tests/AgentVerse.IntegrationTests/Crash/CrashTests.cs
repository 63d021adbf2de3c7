using System.Globalization;
using AgentVerse.IntegrationTests.Launcher;
using AgentVerse.Runtime;
using AgentVerse.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AgentVerse.IntegrationTests.Crash;

/// <summary>
/// A ten-step workflow (tests/CrashApp) is killed mid-run, with its app process alone or with the whole
/// runtime, and started again: it completes, its steps having run at least once and their effects
/// (first-write keys in the sidecar's state store) recorded exactly once.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private const int Steps = 10;
    private const int KillAfterStep = 3;
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Finish = TimeSpan.FromSeconds(30);
    private readonly TempDir _dir = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _instanceId = $"crash-{Guid.NewGuid():N}";

    private readonly ITestOutputHelper _output;

    public CrashTests(ITestOutputHelper output)
    {
        _output = output;
        AttemptLogPath = Path.Combine(_dir.Path, "attempts.log");
        ComponentsPath = _dir.Dir("components");
        _dir.Write("components/statestore.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {CrashSidecar.StoreName}
            spec:
              type: state.sqlite
              version: v1
              metadata:
              - name: connectionString
                value: "{Path.Combine(_dir.Path, "state.db")}"
              - name: actorStateStore
                value: "true"
            """);
    }

    private string AttemptLogPath { get; }

    private string ComponentsPath { get; }

    public void Dispose()
    {
        _http.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_workflow_survives_its_app_process_being_killed_mid_run()
    {
        // The runtime in-process, the app as a real process: the launcher would end the run when its app dies.
        await using var runtime = await LocalRuntime.StartAsync(
            [new SidecarOptions { AppId = "crash", ResourcesPaths = [ComponentsPath] }], NullLoggerFactory.Instance, CancellationToken.None);
        var sidecar = new CrashSidecar(_http, runtime["crash"].HttpPort);
        var environment = new Dictionary<string, string>(AppSettings())
        {
            ["APP_ID"] = "crash",
            ["DAPR_HTTP_PORT"] = Text(runtime["crash"].HttpPort),
            ["DAPR_GRPC_PORT"] = Text(runtime["crash"].GrpcPort),
        };

        await using (var first = CrashAppProcess.Start(environment))
        {
            await sidecar.StartWorkflowAsync(_instanceId, Steps);
            await sidecar.WaitForEffectAsync(_instanceId, KillAfterStep, Startup);
            await first.KillAsync();
        }

        await using var second = CrashAppProcess.Start(environment);
        await AssertCompletedWithEveryEffectOnceAsync(sidecar);
    }

    [Fact]
    public async Task A_workflow_survives_the_runtime_being_killed_mid_run()
    {
        var httpPort = LoopbackPorts.Take();
        var grpcPort = LoopbackPorts.Take();
        var env = string.Join('\n', AppSettings().Select(s => $"      {s.Key}: \"{s.Value}\""));
        var runFile = _dir.Write("dapr.yaml", $"""
            version: 1
            apps:
              - appID: crash
                appDirPath: "{Path.GetDirectoryName(RepoPaths.CrashAppDll)}"
                daprHTTPPort: {httpPort}
                daprGRPCPort: {grpcPort}
                resourcesPaths: ["{ComponentsPath}"]
                command: ["dotnet", "{RepoPaths.CrashAppDll}"]
                appLogDestination: console
                env:
            {env}
            """);
        var sidecar = new CrashSidecar(_http, httpPort);

        await using (var first = CliProcess.Start(_dir.Path, "run", "-f", runFile))
        {
            await first.WaitForLineAsync("agentverse: all 1 app(s) ready", Startup);
            await sidecar.StartWorkflowAsync(_instanceId, Steps);
            await sidecar.WaitForEffectAsync(_instanceId, KillAfterStep, Startup);
            first.KillTree();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        await using var second = CliProcess.Start(_dir.Path, "run", "-f", runFile);
        await second.WaitForLineAsync("agentverse: all 1 app(s) ready", Startup);
        await AssertCompletedWithEveryEffectOnceAsync(sidecar);
    }

    private Dictionary<string, string> AppSettings() => new()
    {
        ["CrashApp__StoreName"] = CrashSidecar.StoreName,
        ["CrashApp__AttemptLog"] = AttemptLogPath,
        ["CrashApp__StepDelay"] = "00:00:00.300",
    };

    private async Task AssertCompletedWithEveryEffectOnceAsync(CrashSidecar sidecar)
    {
        var state = await sidecar.WaitForWorkflowToFinishAsync(_instanceId, Finish);
        var effects = await sidecar.GetEffectsAsync(_instanceId, Steps);
        var log = await AttemptLog.ReadAsync(AttemptLogPath, _instanceId);
        var attempts = log.AttemptsByStep();
        _output.WriteLine($"attempt log (kind step pid):\n{log}");
        var allSteps = Enumerable.Range(1, Steps).ToList();

        Assert.True(state.GetProperty("runtimeStatus").GetString() == "COMPLETED", $"the workflow ended {state}\nattempt log:\n{log}");
        Assert.Equal(Text(Steps), state.GetProperty("properties").GetProperty("dapr.workflow.output").GetString());
        Assert.Equal(allSteps, effects.Keys.Order());
        Assert.All(effects, e => Assert.Equal(e.Key, e.Value.Step));
        // Exactly once: no execution found the sink empty twice for a step.
        Assert.All(log.RecordsByStep(), r => Assert.True(r.Value == 1, $"step {r.Key} recorded {r.Value} times\n{log}"));
        // At least once: every step ran. The kill landed mid-run, so two processes ran them, and the
        // successor resumed at the step in flight (re-running it) or, if that step's result was already
        // committed, at the next one; no step finished before the kill ran again.
        Assert.Equal(allSteps, attempts.Keys.Order());
        var pids = log.Entries.Select(e => e.Pid).Distinct().ToList();
        Assert.True(pids.Count == 2, $"expected the killed app and its successor\n{log}");
        var lastBeforeKill = log.Entries.Where(e => e.Pid == pids[0]).Max(e => e.Step);
        var firstAfterRestart = log.Entries.Where(e => e.Pid == pids[1]).Min(e => e.Step);
        Assert.True(lastBeforeKill < Steps, $"the workflow was done before the kill\n{log}");
        Assert.True(firstAfterRestart == lastBeforeKill || firstAfterRestart == lastBeforeKill + 1,
            $"killed during step {lastBeforeKill}, resumed at step {firstAfterRestart}\n{log}");
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

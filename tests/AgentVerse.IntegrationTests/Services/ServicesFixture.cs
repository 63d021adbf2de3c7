using System.Globalization;
using AgentVerse.Runtime;
using AgentVerse.Runtime.Secrets;
using AgentVerse.Testing;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>
/// The eight services started once for the test class, in parallel, each on its own loopback <c>APP_PORT</c> and
/// pointed at its own sidecar ports, where no sidecar answers until a test calls <see cref="StartSidecarsAsync"/>:
/// then the local runtime serves them, with the platform's secrets provisioned as <c>agentverse up</c> does.
/// </summary>
public sealed class ServicesFixture : IAsyncLifetime
{
    /// <summary>A small body limit, so a test can exceed it with a small request.</summary>
    public const int MaxRequestBodyBytes = 1024;

    /// <summary>Project name and Dapr app id of each service.</summary>
    public static readonly IReadOnlyList<(string Name, string AppId)> All =
    [
        ("Gateway", "gateway"), ("Agents", "agents"), ("Orchestrator", "orchestrator"), ("Rag", "rag"),
        ("Tools", "tools"), ("SqlTool", "sqltool"), ("WorkflowEngine", "workflow-engine"), ("Observability", "observability"),
    ];

    private readonly string _directory = TempDirectory.Create("agentverse-services-tests");
    private readonly List<SidecarOptions> _sidecars = [];

    public IReadOnlyList<ServiceProcess> Services { get; private set; } = [];

    public LocalRuntime? Runtime { get; private set; }

    public async Task InitializeAsync()
    {
        await ResourcesDirectory.WriteServiceComponentsAsync(_directory, PlatformSecrets.Generate().ToJsonString());
        var starting = new List<Task<ServiceProcess>>();
        foreach (var (name, appId) in All)
        {
            var ports = LoopbackPorts.Take(3);
            _sidecars.Add(new SidecarOptions { AppId = appId, AppPort = ports[0], HttpPort = ports[1], GrpcPort = ports[2], ResourcesPaths = [_directory] });
            starting.Add(ServiceProcess.StartAsync(name, ports[0], new Dictionary<string, string>
            {
                ["APP_ID"] = appId,
                ["DAPR_HTTP_PORT"] = ports[1].ToString(CultureInfo.InvariantCulture),
                ["DAPR_GRPC_PORT"] = ports[2].ToString(CultureInfo.InvariantCulture),
                ["AgentVerse__MaxRequestBodyBytes"] = MaxRequestBodyBytes.ToString(CultureInfo.InvariantCulture),
            }));
        }

        try
        {
            Services = await Task.WhenAll(starting);
        }
        catch
        {
            // Stop the ones that did start before reporting the one that did not.
            foreach (var task in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await task.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Starts every service's sidecar on the ports it was given.</summary>
    public async Task StartSidecarsAsync() =>
        Runtime = await LocalRuntime.StartAsync(_sidecars, TestLogging.LoggerFactory(), CancellationToken.None);

    public async Task DisposeAsync()
    {
        await Task.WhenAll(Services.Select(service => service.DisposeAsync().AsTask()));
        if (Runtime is not null)
        {
            await Runtime.DisposeAsync();
        }

        TempDirectory.Delete(_directory);
    }

    /// <summary>Runs <paramref name="check"/> against every service at once.</summary>
    public Task ForEachService(Func<ServiceProcess, Task> check) => Task.WhenAll(Services.Select(check));
}

using System.Globalization;
using AgentVerse.Runtime;
using AgentVerse.Runtime.Secrets;
using AgentVerse.Testing;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>
/// The eight services as real processes, each on its own loopback <c>APP_PORT</c> with its own sidecar ports on the
/// local runtime, and the platform's secrets provisioned as <c>agentverse up</c> does. The sidecars start with the
/// services or, for tests of what a service does without one, when <see cref="StartSidecarsAsync"/> is called.
/// </summary>
public sealed class PlatformProcesses : IAsyncDisposable
{
    /// <summary>Project name and Dapr app id of each service.</summary>
    public static readonly IReadOnlyList<(string Name, string AppId)> All =
    [
        ("Gateway", "gateway"), ("Agents", "agents"), ("Orchestrator", "orchestrator"), ("Rag", "rag"),
        ("Tools", "tools"), ("SqlTool", "sqltool"), ("WorkflowEngine", "workflow-engine"), ("Observability", "observability"),
    ];

    private readonly string _directory = TempDirectory.Create("agentverse-platform-tests");
    private readonly List<SidecarOptions> _sidecars = [];

    private PlatformProcesses()
    {
    }

    public IReadOnlyList<ServiceProcess> Services { get; private set; } = [];

    public LocalRuntime? Runtime { get; private set; }

    public ServiceProcess this[string name] => Services.Single(s => s.Name == name);

    /// <summary>Starts the services with <paramref name="environment"/> on top of their own; the sidecars too unless told otherwise.</summary>
    public static async Task<PlatformProcesses> StartAsync(IReadOnlyDictionary<string, string> environment, bool withSidecars)
    {
        var platform = new PlatformProcesses();
        try
        {
            await ResourcesDirectory.WriteServiceComponentsAsync(platform._directory, PlatformSecrets.Generate().ToJsonString());
            var starting = new List<Task<ServiceProcess>>();
            foreach (var (name, appId) in All)
            {
                var ports = LoopbackPorts.Take(3);
                platform._sidecars.Add(new SidecarOptions { AppId = appId, AppPort = ports[0], HttpPort = ports[1], GrpcPort = ports[2], ResourcesPaths = [platform._directory] });
                var processEnvironment = new Dictionary<string, string>(environment)
                {
                    ["APP_ID"] = appId,
                    ["DAPR_HTTP_PORT"] = ports[1].ToString(CultureInfo.InvariantCulture),
                    ["DAPR_GRPC_PORT"] = ports[2].ToString(CultureInfo.InvariantCulture),
                };
                starting.Add(ServiceProcess.StartAsync(name, ports[0], processEnvironment));
            }

            if (withSidecars)
            {
                await platform.StartSidecarsAsync();
            }

            platform.Services = await ServiceProcess.WhenAllStartedAsync(starting);
            return platform;
        }
        catch
        {
            await platform.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts every service's sidecar on the ports it was given.</summary>
    public async Task StartSidecarsAsync() =>
        Runtime = await LocalRuntime.StartAsync(_sidecars, TestLogging.LoggerFactory(), CancellationToken.None);

    /// <summary>Runs <paramref name="check"/> against every service at once.</summary>
    public Task ForEachService(Func<ServiceProcess, Task> check) => Task.WhenAll(Services.Select(check));

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Services.Select(service => service.DisposeAsync().AsTask()));
        if (Runtime is not null)
        {
            await Runtime.DisposeAsync();
        }

        TempDirectory.Delete(_directory);
    }
}

using System.Globalization;
using AgentVerse.Runtime;
using AgentVerse.Runtime.Secrets;

namespace AgentVerse.Testing;

/// <summary>
/// The gateway and the agents service as real processes plus an in-process <see cref="EchoApp"/> (app id
/// <c>rag</c>), each with its own sidecar of one <see cref="LocalRuntime"/> over a temp resources directory:
/// in-memory state and pub/sub and a local-file secret store holding the platform's secrets (as <c>agentverse up</c>
/// provisions them) unless a test gives its own.
/// </summary>
public sealed class GatewayRun : IAsyncDisposable
{
    public const string EchoAppId = "rag";

    private GatewayRun(string directory, LocalRuntime runtime)
    {
        Directory = directory;
        Runtime = runtime;
    }

    public string Directory { get; }

    public string SecretsFile => Path.Combine(Directory, "secrets.json");

    public LocalRuntime Runtime { get; }

    public ServiceProcess Gateway { get; private set; } = null!;

    public ServiceProcess Agents { get; private set; } = null!;

    public EchoApp Echo { get; private set; } = null!;

    /// <summary>
    /// Starts everything; <paramref name="gatewaySettings"/> are extra environment variables of the gateway,
    /// <paramref name="secretsJson"/> the secret store's file (by default, freshly provisioned platform secrets, as
    /// <c>agentverse up</c> writes them).
    /// </summary>
    public static async Task<GatewayRun> StartAsync(IReadOnlyDictionary<string, string>? gatewaySettings = null, string? configuration = null, string? secretsJson = null)
    {
        var directory = TempDirectory.Create("agentverse-gateway-tests");
        await ResourcesDirectory.WriteServiceComponentsAsync(directory, secretsJson ?? PlatformSecrets.Generate().ToJsonString());

        var ports = new Dictionary<string, int>
        {
            ["gateway"] = LoopbackPorts.Take(),
            ["agents"] = LoopbackPorts.Take(),
            [EchoAppId] = LoopbackPorts.Take(),
        };
        var runtime = await LocalRuntime.StartAsync(
            [.. ports.Select(p => new SidecarOptions { AppId = p.Key, AppPort = p.Value, ResourcesPaths = [directory] })],
            TestLogging.LoggerFactory(), CancellationToken.None);
        var stack = new GatewayRun(directory, runtime);
        try
        {
            stack.Echo = await EchoApp.StartAsync(EchoAppId, ports[EchoAppId], runtime[EchoAppId]);
            var gatewayEnvironment = new Dictionary<string, string>
            {
                ["APP_ID"] = "gateway",
                ["DAPR_HTTP_PORT"] = Port(runtime["gateway"].HttpPort),
                ["DAPR_GRPC_PORT"] = Port(runtime["gateway"].GrpcPort),
                ["Logging__LogLevel__Default"] = "Warning",
            };
            foreach (var (key, value) in gatewaySettings ?? new Dictionary<string, string>())
            {
                gatewayEnvironment[key] = value;
            }

            var starting = new[]
            {
                ServiceProcess.StartAsync("Gateway", ports["gateway"], gatewayEnvironment, configuration),
                ServiceProcess.StartAsync("Agents", ports["agents"], new Dictionary<string, string>
                {
                    ["APP_ID"] = "agents",
                    ["DAPR_HTTP_PORT"] = Port(runtime["agents"].HttpPort),
                    ["DAPR_GRPC_PORT"] = Port(runtime["agents"].GrpcPort),
                    ["Logging__LogLevel__Default"] = "Warning",
                }, configuration),
            };
            var started = await ServiceProcess.WhenAllStartedAsync(starting);
            stack.Gateway = started[0];
            stack.Agents = started[1];

            using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Task.WhenAll(runtime.Sidecars.Select(s => s.AppReady.WaitAsync(ready.Token)));
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Agents is not null)
        {
            await Agents.DisposeAsync();
        }

        if (Echo is not null)
        {
            await Echo.DisposeAsync();
        }

        await Runtime.DisposeAsync();
        TempDirectory.Delete(Directory);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

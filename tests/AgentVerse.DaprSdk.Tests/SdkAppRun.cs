using System.Globalization;
using AgentVerse.Runtime;
using AgentVerse.Testing;
using Dapr.Client;
using Dapr.Workflow;
using Dapr.Workflow.Registration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentVerse.DaprSdk.Tests;

/// <summary>
/// tests/SdkApp under <c>agentverse run -f</c>, as a user of the launcher runs an app: a run file, the components
/// beside it (SQLite state that is also the actor store, in-memory pub/sub with a retry policy, a local secrets
/// file), and clients built the way an app builds them. One run serves every test in the collection.
/// </summary>
public sealed class SdkAppRun : IAsyncLifetime
{
    public const string AppId = "sdkapp";

    private readonly TempDir _directory = new();
    private ServiceProvider? _services;
    private CliProcess? _launcher;

    public int AppPort { get; private set; }
    public int HttpPort { get; private set; }
    public int GrpcPort { get; private set; }

    /// <summary>The sidecar's HTTP endpoint as the SDK's defaults spell it (<c>DaprDefaults</c> ends it with a slash).</summary>
    public string HttpEndpoint => $"http://127.0.0.1:{HttpPort}/";

    public DaprClient Dapr { get; private set; } = null!;

    public DaprWorkflowClient Workflows { get; private set; } = null!;

    /// <summary>Calls the app through its sidecar (<c>/v1.0/invoke/sdkapp/method/...</c>).</summary>
    public HttpClient App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var ports = LoopbackPorts.Take(3);
        (AppPort, HttpPort, GrpcPort) = (ports[0], ports[1], ports[2]);
        _directory.Write("components/statestore.yaml", ComponentYaml.SqliteActorStore(_directory.Path));
        _directory.Write("components/pubsub.yaml", ComponentYaml.InMemoryPubSub);
        _directory.Write("components/secretstore.yaml", ComponentYaml.LocalFileSecretStore(Path.Combine(_directory.Path, "secrets.json")));
        _directory.Write("secrets.json", """{ "db-password": "s3cr3t", "api": { "key": "k-123" } }""");
        // A subscriber answering RETRY gets the message again under the component's inbound retry policy.
        _directory.Write("components/resiliency.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: retries
            spec:
              policies:
                retries:
                  quick:
                    policy: constant
                    duration: 50ms
                    maxRetries: 5
              targets:
                components:
                  pubsub:
                    inbound:
                      retry: quick
            """);
        _directory.Write("dapr.yaml", string.Create(CultureInfo.InvariantCulture, $"""
            version: 1
            common:
              resourcesPath: ./components
            apps:
              - appID: {AppId}
                appDirPath: {RepoPaths.SdkAppOutput}
                appPort: {AppPort}
                daprHTTPPort: {HttpPort}
                daprGRPCPort: {GrpcPort}
                command: ["dotnet", "AgentVerse.SdkApp.dll"]
                env:
                  ASPNETCORE_URLS: http://127.0.0.1:{AppPort}
                  Logging__LogLevel__Default: Warning
            """));

        _launcher = CliProcess.Start(_directory.Path, "run", "-f", "dapr.yaml");
        await _launcher.WaitForLineAsync($"{AppId} ready", TimeSpan.FromSeconds(120));

        // What DaprDefaults reads from the environment of an app under Dapr, given as configuration instead.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DAPR_HTTP_ENDPOINT"] = $"http://127.0.0.1:{HttpPort}",
            ["DAPR_GRPC_ENDPOINT"] = $"http://127.0.0.1:{GrpcPort}",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddDaprClient();
        _services = services.BuildServiceProvider();
        Dapr = _services.GetRequiredService<DaprClient>();
        Workflows = new DaprWorkflowClientBuilder(configuration).UseGrpcEndpoint($"http://127.0.0.1:{GrpcPort}").Build();
        App = DaprClient.CreateInvokeHttpClient(AppId, $"http://127.0.0.1:{HttpPort}");
    }

    /// <summary>Everything the launcher (sidecar and app) printed so far, for failure messages.</summary>
    public string Output => _launcher?.Output ?? "";

    public async Task DisposeAsync()
    {
        App?.Dispose();
        if (Workflows is not null)
        {
            await Workflows.DisposeAsync();
        }
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
        if (_launcher is not null)
        {
            _launcher.Terminate();
            await _launcher.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await _launcher.DisposeAsync();
        }
        _directory.Dispose();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(because ?? "the condition did not hold in time");
            }
            await Task.Delay(25);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SdkAppTests : ICollectionFixture<SdkAppRun>
{
    public const string Name = "SDK app under the launcher";
}

using Grpc.Core;
using Dapr.DurableTask.Protobuf;
using AgentVerse.Testing;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>
/// A <see cref="LocalRuntime"/> with one app whose actor state store is SQLite in a directory that
/// outlives the runtime, so a test can stop the runtime and start a new one over the same state.
/// </summary>
internal sealed class WorkflowRun : IAsyncDisposable
{
    private WorkflowRun(LocalRuntime runtime, string directory, string? apiToken)
    {
        Runtime = runtime;
        Directory = directory;
        Grpc = new GrpcCalls(new Uri($"http://127.0.0.1:{runtime[AppId].GrpcPort}"), apiToken);
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{runtime[AppId].HttpPort}/") };
        if (apiToken is not null)
        {
            Http.DefaultRequestHeaders.Add("dapr-api-token", apiToken);
        }
    }

    public const string AppId = "wfapp";

    public LocalRuntime Runtime { get; }
    public string Directory { get; }
    public GrpcCalls Grpc { get; }
    public HttpClient Http { get; }
    public int GrpcPort => Runtime[AppId].GrpcPort;

    /// <summary>Starts a runtime over <paramref name="directory"/> (a new temp dir when null) holding <paramref name="resources"/>, or the SQLite actor store by default.</summary>
    public static async Task<WorkflowRun> StartAsync(string? directory = null, TimeSpan? workItemTimeout = null, int grpcPort = 0, string? apiToken = null, params string[] resources)
    {
        directory ??= resources.Length > 0
            ? await ResourcesDirectory.CreateAsync(resources)
            : await ResourcesDirectory.CreateAsync(ComponentYaml.SqliteActorStore);
        var options = new SidecarOptions
        {
            AppId = AppId,
            ResourcesPaths = [directory],
            GrpcPort = grpcPort,
            ApiToken = apiToken,
            WorkflowWorkItemTimeout = workItemTimeout ?? TimeSpan.FromMinutes(5),
        };
        var runtime = await LocalRuntime.StartAsync([options], TestLogging.LoggerFactory(), CancellationToken.None);
        return new WorkflowRun(runtime, directory, apiToken);
    }

    public ScriptedWorker Worker() => new(Grpc);

    public Task<CreateInstanceResponse> StartAsync(string name, string? input = null, string? instanceId = null, DateTimeOffset? startAt = null)
    {
        var request = new CreateInstanceRequest { InstanceId = instanceId ?? Guid.NewGuid().ToString("N"), Name = name, Input = input };
        if (startAt is { } at)
        {
            request.ScheduledStartTimestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at);
        }
        return Grpc.UnaryAsync("/TaskHubSidecarService/StartInstance", request, CreateInstanceResponse.Parser, TimeSpan.FromSeconds(30));
    }

    public Task<GetInstanceResponse> GetAsync(string instanceId) =>
        Grpc.UnaryAsync("/TaskHubSidecarService/GetInstance", new GetInstanceRequest { InstanceId = instanceId, GetInputsAndOutputs = true },
            GetInstanceResponse.Parser, TimeSpan.FromSeconds(10));

    public Task<GetInstanceResponse> WaitForCompletionAsync(string instanceId, double seconds = 30) =>
        Grpc.UnaryAsync("/TaskHubSidecarService/WaitForInstanceCompletion", new GetInstanceRequest { InstanceId = instanceId, GetInputsAndOutputs = true },
            GetInstanceResponse.Parser, TimeSpan.FromSeconds(seconds));

    public Task<TResponse> CallAsync<TResponse>(string method, Google.Protobuf.IMessage request, Google.Protobuf.MessageParser<TResponse> parser, double seconds = 30)
        where TResponse : class, Google.Protobuf.IMessage<TResponse> =>
        Grpc.UnaryAsync("/TaskHubSidecarService/" + method, request, parser, TimeSpan.FromSeconds(seconds));

    /// <summary>Stops the runtime but keeps the directory (and its database) for a successor.</summary>
    public async ValueTask StopAsync()
    {
        Grpc.Dispose();
        Http.Dispose();
        await Runtime.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        TempDirectory.Delete(Directory);
    }
}

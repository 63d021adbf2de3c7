using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using AgentVerse.Runtime;
using Dapr.Client;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Tools.Tests;

/// <summary>
/// A stand-in for a sidecar's gRPC API that records what the official DaprClient sends it and can make the broker
/// refuse bulk publishes, in part or whole: the failure modes the local runtime's broker cannot be made to show on
/// cue. It serves the four Dapr methods the execution recorder uses, bound with Grpc.AspNetCore's code-first
/// service model over the SDK's own message types; everything else is UNIMPLEMENTED.
/// </summary>
internal sealed class RecordingSidecar : IAsyncDisposable
{
    private const string Service = "dapr.proto.runtime.v1.Dapr";

    private WebApplication? _app;

    private RecordingSidecar(int port) => Port = port;

    public int Port { get; }

    public ConcurrentBag<string> SavedKeys { get; } = [];

    public ConcurrentBag<string> Published { get; } = [];

    public ConcurrentDictionary<string, string> Indexes { get; } = new();

    public int Transactions;

    public int BulkPublishes;

    /// <summary>Bulk publishes to answer as daprd does when the broker refuses entries: every other entry fails (0 = none).</summary>
    public int PartialFailures;

    /// <summary>Bulk publishes to fail as a whole, as when the broker is down (0 = none).</summary>
    public int TotalFailures;

    public static async Task<RecordingSidecar> StartAsync()
    {
        var sidecar = new RecordingSidecar(LoopbackPorts.Take());
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenLocalhost(sidecar.Port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(sidecar);
        builder.Services.AddSingleton<IServiceMethodProvider<RecordingSidecar>, Methods>();
        sidecar._app = builder.Build();
        sidecar._app.MapGrpcService<RecordingSidecar>();
        await sidecar._app.StartAsync();
        return sidecar;
    }

    public DaprClient CreateClient() =>
        new DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{Port}").UseHttpEndpoint($"http://127.0.0.1:{Port}").Build();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private Task<GetStateResponse> GetState(GetStateRequest request) =>
        Task.FromResult(Indexes.TryGetValue(request.Key, out var value)
            ? new GetStateResponse { Data = ByteString.CopyFromUtf8(value), Etag = "1" }
            : new GetStateResponse());

    private Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request)
    {
        Interlocked.Increment(ref Transactions);
        foreach (var operation in request.Operations)
        {
            var key = operation.Request.Key;
            if (key.StartsWith("tool-execution-index:", StringComparison.Ordinal))
            {
                Indexes[key] = operation.Request.Value.ToStringUtf8();
            }
            else
            {
                SavedKeys.Add(key);
            }
        }
        return Task.FromResult(new Empty());
    }

    private Task<BulkPublishResponse> BulkPublishEvent(BulkPublishRequest request)
    {
        Interlocked.Increment(ref BulkPublishes);
        if (Interlocked.Decrement(ref TotalFailures) >= 0)
        {
            throw new RpcException(new Status(StatusCode.Internal, "error when publish to topic tool.executed in pubsub pubsub: broker down"));
        }

        var failSome = Interlocked.Decrement(ref PartialFailures) >= 0;
        var response = new BulkPublishResponse();
        var index = 0;
        foreach (var entry in request.Entries)
        {
            if (failSome && index++ % 2 == 0)
            {
                response.FailedEntries.Add(new BulkPublishResponseFailedEntry { EntryId = entry.EntryId, Error = "queue full" });
            }
            else
            {
                using var data = JsonDocument.Parse(entry.Event.Memory);
                Published.Add(data.RootElement.GetProperty("executionId").GetString()!);
            }
        }
        return Task.FromResult(response);
    }

    private Task<Empty> PublishEvent(PublishEventRequest request)
    {
        using var data = JsonDocument.Parse(Encoding.UTF8.GetString(request.Data.Span));
        Published.Add(data.RootElement.GetProperty("executionId").GetString()!);
        return Task.FromResult(new Empty());
    }

    /// <summary>Binds the recording methods under daprd's gRPC service name.</summary>
    private sealed class Methods : IServiceMethodProvider<RecordingSidecar>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<RecordingSidecar> context)
        {
            Add(context, "GetState", GetStateRequest.Parser, (s, r) => s.GetState(r));
            Add(context, "ExecuteStateTransaction", ExecuteStateTransactionRequest.Parser, (s, r) => s.ExecuteStateTransaction(r));
            Add(context, "BulkPublishEvent", BulkPublishRequest.Parser, (s, r) => s.BulkPublishEvent(r));
            Add(context, "PublishEvent", PublishEventRequest.Parser, (s, r) => s.PublishEvent(r));
        }

        private static void Add<TRequest, TResponse>(ServiceMethodProviderContext<RecordingSidecar> context, string name,
            MessageParser<TRequest> parser, Func<RecordingSidecar, TRequest, Task<TResponse>> handle)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
        {
            var method = new Method<TRequest, TResponse>(MethodType.Unary, Service, name,
                Marshallers.Create(r => r.ToByteArray(), parser.ParseFrom),
                Marshallers.Create<TResponse>(r => r.ToByteArray(), _ => throw new NotSupportedException("responses are only sent")));
            context.AddUnaryMethod(method, [], (service, request, _) => handle(service, request));
        }
    }
}

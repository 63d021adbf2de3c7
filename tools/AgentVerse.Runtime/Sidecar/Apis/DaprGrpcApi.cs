using System.Text.Json;
using AgentVerse.Runtime.State;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using static Dapr.Client.Autogen.Grpc.v1.StateOptions.Types;
using DaprService = Dapr.Client.Autogen.Grpc.v1.Dapr;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>
/// daprd's gRPC API (<c>dapr.proto.runtime.v1.Dapr</c>, pkg/api/grpc/grpc.go) for the building blocks the runtime
/// serves: state, pub/sub, secrets, metadata, invocation and shutdown. It shares stores, validation and error wording
/// with the HTTP API; errors carry daprd's gRPC codes (an ETag conflict is ABORTED, which the SDK's <c>Try*</c>
/// methods turn into <c>false</c>). Methods it does not override answer UNIMPLEMENTED at once.
/// </summary>
internal sealed class DaprGrpcApi(Sidecar sidecar) : DaprService.DaprBase
{
    private static readonly Empty Done = new();

    public override async Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context)
    {
        var binding = Store(request.StoreName);
        ThrowIf(StateApi.ValidateKey(request.Key));
        StateEntry? entry;
        try
        {
            entry = await binding.Store.GetAsync(binding.StoredKey(request.Key), context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw StateApi.GetFailed(binding, request.Key, e).ToRpcException();
        }
        var response = new GetStateResponse();
        if (entry is not null)
        {
            response.Data = ByteString.CopyFrom(entry.Value.Span);
            response.Etag = entry.ETag;
            AddTtl(response.Metadata, entry);
        }
        return response;
    }

    public override async Task<GetBulkStateResponse> GetBulkState(GetBulkStateRequest request, ServerCallContext context)
    {
        var binding = Store(request.StoreName);
        ThrowIf(StateApi.TooManyOperations(request.Keys.Count));
        var response = new GetBulkStateResponse();
        // Each key answers on its own; a failing key carries "error" instead of failing the call (daprd).
        foreach (var key in request.Keys)
        {
            var item = new BulkStateItem { Key = key };
            if (StateApi.ValidateKey(key) is { } bad)
            {
                item.Error = bad.Message;
            }
            else
            {
                try
                {
                    if (await binding.Store.GetAsync(binding.StoredKey(key), context.CancellationToken) is { } entry)
                    {
                        item.Data = ByteString.CopyFrom(entry.Value.Span);
                        item.Etag = entry.ETag;
                        AddTtl(item.Metadata, entry);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    item.Error = e.Message;
                }
            }
            response.Items.Add(item);
        }
        return response;
    }

    public override async Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context)
    {
        var binding = Store(request.StoreName);
        ThrowIf(StateApi.TooManyOperations(request.States.Count));
        var writes = request.States.Select(item => ToSetRequest(binding, item, baseMetadata: null)).ToList();
        foreach (var write in writes)
        {
            try
            {
                await binding.Store.SetAsync(write, context.CancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw StateApi.SaveFailed(binding, e).ToRpcException();
            }
        }
        return Done;
    }

    public override async Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context)
    {
        var binding = Store(request.StoreName);
        ThrowIf(StateApi.ValidateKey(request.Key));
        try
        {
            await binding.Store.DeleteAsync(ToDeleteRequest(binding, request.Key, request.Etag, request.Options), context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw StateApi.DeleteFailed(request.Key, e).ToRpcException();
        }
        return Done;
    }

    public override async Task<Empty> DeleteBulkState(DeleteBulkStateRequest request, ServerCallContext context)
    {
        var binding = Store(request.StoreName);
        ThrowIf(StateApi.TooManyOperations(request.States.Count));
        foreach (var item in request.States)
        {
            ThrowIf(StateApi.ValidateKey(item.Key));
        }
        foreach (var item in request.States)
        {
            try
            {
                await binding.Store.DeleteAsync(ToDeleteRequest(binding, item.Key, item.Etag, item.Options), context.CancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw DaprError.StateFailure(e, "ERR_STATE_BULK_DELETE",
                    $"failed deleting state in state store {binding.Name}: {e.Message}").ToRpcException();
            }
        }
        return Done;
    }

    public override async Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context)
    {
        var binding = Store(request.StoreName);
        ThrowIf(StateApi.TransactionsUnsupported(binding));
        ThrowIf(StateApi.TooManyOperations(request.Operations.Count));
        List<StateOperation> operations = [];
        foreach (var operation in request.Operations)
        {
            var item = operation.Request ?? new StateItem();
            operations.Add(operation.OperationType switch
            {
                "upsert" => new UpsertOperation(ToSetRequest(binding, item, request.Metadata)),
                "delete" => new DeleteOperation(ToDeleteRequest(binding, item.Key, item.Etag, item.Options)),
                _ => throw StateApi.UnsupportedOperation(operation.OperationType).ToRpcException(),
            });
        }
        try
        {
            await binding.Store.ExecuteTransactionAsync(operations, context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw StateApi.TransactionFailed(e).ToRpcException();
        }
        return Done;
    }

    public override async Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context)
    {
        ThrowIf(PublishApi.Resolve(sidecar, request.PubsubName, request.Topic, out var pubsub));
        var metadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
        var message = Build(request.PubsubName, request.Topic, request.Data.ToByteArray(),
            EmptyAsNull(request.DataContentType), metadata, TraceOf(context));
        try
        {
            await pubsub.PublishAsync(request.Topic, message, context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw PublishApi.PublishFailed(request.PubsubName, request.Topic, e).ToRpcException();
        }
        return Done;
    }

    // The SDK tries BulkPublishEvent, then the alpha name when the stable one is UNIMPLEMENTED (older daprd).
    [Obsolete("Deprecated in the proto; served for SDKs that still call it.")]
    public override Task<BulkPublishResponse> BulkPublishEventAlpha1(BulkPublishRequest request, ServerCallContext context) =>
        BulkPublishEvent(request, context);

    public override async Task<BulkPublishResponse> BulkPublishEvent(BulkPublishRequest request, ServerCallContext context)
    {
        ThrowIf(PublishApi.Resolve(sidecar, request.PubsubName, request.Topic, out var pubsub));
        var trace = TraceOf(context);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<(string EntryId, PubSub.BrokerMessage Message)> entries = [];
        foreach (var entry in request.Entries)
        {
            if (entry.EntryId.Length == 0 || !seen.Add(entry.EntryId))
            {
                throw new DaprError(400, "ERR_PUBSUB_EVENTS_SER", "error: entryId is duplicated or not present for entry").ToRpcException();
            }
            // Entry metadata wins over the request's.
            var metadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
            foreach (var (key, value) in entry.Metadata)
            {
                metadata[key] = value;
            }
            entries.Add((entry.EntryId, Build(request.PubsubName, request.Topic, entry.Event.ToByteArray(), EmptyAsNull(entry.ContentType), metadata, trace.NewChild())));
        }

        var response = new BulkPublishResponse();
        foreach (var (entryId, message) in entries)
        {
            try
            {
                await pubsub.PublishAsync(request.Topic, message, context.CancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                response.FailedEntries.Add(new BulkPublishResponseFailedEntry { EntryId = entryId, Error = e.Message });
            }
        }
        return response;
    }

    public override async Task<GetSecretResponse> GetSecret(GetSecretRequest request, ServerCallContext context)
    {
        ThrowIf(SecretsApi.Resolve(sidecar, request.StoreName, out var store));
        try
        {
            var values = await store.SecretStore!.GetSecretAsync(request.Key, request.Metadata, context.CancellationToken);
            var response = new GetSecretResponse();
            foreach (var (key, value) in values)
            {
                response.Data[key] = value;
            }
            return response;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw SecretsApi.GetFailed(request.StoreName, request.Key, e).ToRpcException();
        }
    }

    public override async Task<GetBulkSecretResponse> GetBulkSecret(GetBulkSecretRequest request, ServerCallContext context)
    {
        ThrowIf(SecretsApi.Resolve(sidecar, request.StoreName, out var store));
        try
        {
            var secrets = await store.SecretStore!.BulkGetSecretAsync(request.Metadata, context.CancellationToken);
            var response = new GetBulkSecretResponse();
            foreach (var (name, values) in secrets)
            {
                var secret = new SecretResponse();
                foreach (var (key, value) in values)
                {
                    secret.Secrets[key] = value;
                }
                response.Data[name] = secret;
            }
            return response;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw SecretsApi.BulkGetFailed(request.StoreName, e).ToRpcException();
        }
    }

    public override Task<GetMetadataResponse> GetMetadata(GetMetadataRequest request, ServerCallContext context)
    {
        var response = new GetMetadataResponse
        {
            Id = sidecar.AppId,
            RuntimeVersion = MetadataApi.RuntimeVersion,
            ActorRuntime = new ActorRuntime
            {
                // The in-process placement is always there; hostReady says whether this app hosts actor types.
                RuntimeStatus = ActorRuntime.Types.ActorRuntimeStatus.Running,
                HostReady = sidecar.Actors is not null,
                Placement = "placement: connected",
            },
            Workflows = new MetadataWorkflows { ConnectedWorkers = sidecar.Workflows.Dispatcher.ConnectedWorkers },
            AppConnectionProperties = sidecar.App is { } app
                ? new AppConnectionProperties { Port = app.Port, Protocol = "http", ChannelAddress = app.Address }
                : new AppConnectionProperties(),
        };
        foreach (var (type, count) in sidecar.Actors?.ActiveCounts ?? [])
        {
            response.ActorRuntime.ActiveActors.Add(new ActiveActorsCount { Type = type, Count = count });
        }
        foreach (var component in sidecar.Components)
        {
            var registered = new RegisteredComponents { Name = component.Definition.Name, Type = component.Definition.Type, Version = component.Definition.Version };
            registered.Capabilities.AddRange(MetadataApi.Capabilities(sidecar, component.Definition.Name));
            response.RegisteredComponents.Add(registered);
        }
        response.ExtendedMetadata["daprRuntimeVersion"] = MetadataApi.RuntimeVersion;
        foreach (var (key, value) in sidecar.ExtendedMetadata)
        {
            response.ExtendedMetadata[key] = value;
        }
        foreach (var subscription in sidecar.Subscriptions.Active)
        {
            var item = new PubsubSubscription
            {
                PubsubName = subscription.PubsubName,
                Topic = subscription.Topic,
                DeadLetterTopic = subscription.DeadLetterTopic ?? "",
                Rules = new PubsubSubscriptionRules(),
                Type = subscription.Declarative ? PubsubSubscriptionType.Declarative : PubsubSubscriptionType.Programmatic,
            };
            foreach (var (key, value) in subscription.Metadata)
            {
                item.Metadata[key] = value;
            }
            item.Rules.Rules.AddRange(subscription.Rules.Select(r => new PubsubSubscriptionRule { Match = r.Match, Path = r.Path }));
            response.Subscriptions.Add(item);
        }
        return Task.FromResult(response);
    }

    public override Task<Empty> SetMetadata(SetMetadataRequest request, ServerCallContext context)
    {
        sidecar.ExtendedMetadata[request.Key] = request.Value;
        return Task.FromResult(Done);
    }

    public override Task<Empty> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        sidecar.Runtime.RequestShutdown(sidecar.AppId);
        return Task.FromResult(Done);
    }

    /// <summary>
    /// The deprecated gRPC-to-HTTP invocation: the message becomes an HTTP request to the target app; a non-2xx
    /// answer is an error status with the body as its detail and <c>dapr-http-status</c> in the headers (daprd).
    /// </summary>
    public override async Task<InvokeResponse> InvokeService(InvokeServiceRequest request, ServerCallContext context)
    {
        var message = request.Message ?? new InvokeRequest();
        var target = InvokeApi.FindTarget(sidecar, request.Id);
        if (target?.App is null)
        {
            throw new RpcException(new Status(StatusCode.Internal,
                $"failed to invoke, id: {request.Id}, err: {(target is null ? $"couldn't find service: {request.Id}" : "app channel is not initialized")}"));
        }
        var verb = message.HttpExtension?.Verb is { } v and not HTTPExtension.Types.Verb.None ? v.ToString().ToUpperInvariant() : "POST";
        var query = message.HttpExtension?.Querystring is { Length: > 0 } q ? "?" + q : "";
        using var outgoing = new HttpRequestMessage(new HttpMethod(verb), new Uri(target.App.BaseAddress, message.Method.TrimStart('/') + query));
        if (message.Data is { Value.Length: > 0 } data)
        {
            outgoing.Content = new ByteArrayContent(data.Value.ToByteArray());
            outgoing.Content.Headers.TryAddWithoutValidation("Content-Type", message.ContentType is { Length: > 0 } type ? type : "application/json");
        }
        var trace = TraceOf(context);
        outgoing.Headers.TryAddWithoutValidation("traceparent", trace.TraceParent);
        outgoing.Headers.TryAddWithoutValidation("dapr-caller-app-id", sidecar.AppId);
        outgoing.Headers.TryAddWithoutValidation("dapr-callee-app-id", target.AppId);

        HttpResponseMessage response;
        try
        {
            response = await target.App.SendAsync(outgoing, context.CancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"failed to invoke, id: {request.Id}, err: {e.Message}"));
        }
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(context.CancellationToken);
            var status = (int)response.StatusCode;
            await context.WriteResponseHeadersAsync(new Metadata { { "dapr-http-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
            if (status is < 200 or > 299)
            {
                throw new RpcException(new Status(HttpToGrpc(status), System.Text.Encoding.UTF8.GetString(body)));
            }
            return new InvokeResponse
            {
                Data = new Any { Value = ByteString.CopyFrom(body) },
                ContentType = response.Content.Headers.ContentType?.ToString() ?? "",
            };
        }
    }

    // daprd invokev1.ErrorFromHTTPResponseCode.
    private static StatusCode HttpToGrpc(int status) => status switch
    {
        400 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        409 => StatusCode.Aborted,
        412 => StatusCode.FailedPrecondition,
        416 => StatusCode.OutOfRange,
        429 => StatusCode.ResourceExhausted,
        499 => StatusCode.Cancelled,
        501 => StatusCode.Unimplemented,
        503 => StatusCode.Unavailable,
        504 => StatusCode.DeadlineExceeded,
        _ => StatusCode.Unknown,
    };

    private StateStoreBinding Store(string name)
    {
        ThrowIf(StateApi.ResolveStore(sidecar, name, out var binding));
        return binding;
    }

    /// <summary>One state item as a store write: the value's bytes as sent, its ETag, concurrency and TTL.</summary>
    private static StateSetRequest ToSetRequest(StateStoreBinding binding, StateItem item, IReadOnlyDictionary<string, string>? baseMetadata)
    {
        ThrowIf(StateApi.ValidateKey(item.Key));
        var metadata = new Dictionary<string, string>(baseMetadata ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in item.Metadata)
        {
            metadata[key] = value;
        }
        try
        {
            return new StateSetRequest(binding.StoredKey(item.Key), item.Value.Memory, EtagOf(item.Etag), IsFirstWrite(item.Options),
                StateApi.ParseTtl(metadata, binding.Name));
        }
        catch (StateApi.StateRequestException e)
        {
            throw e.Error.ToRpcException();
        }
    }

    private static StateDeleteRequest ToDeleteRequest(StateStoreBinding binding, string key, Etag? etag, StateOptions? options)
    {
        ThrowIf(StateApi.ValidateKey(key));
        return new StateDeleteRequest(binding.StoredKey(key), EtagOf(etag), IsFirstWrite(options));
    }

    // An empty ETag is no ETag (components-contrib SetRequest.HasETag).
    private static string? EtagOf(Etag? etag) => etag is { Value.Length: > 0 } ? etag.Value : null;

    private static bool IsFirstWrite(StateOptions? options) => options?.Concurrency == StateConcurrency.ConcurrencyFirstWrite;

    private static void AddTtl(Google.Protobuf.Collections.MapField<string, string> metadata, StateEntry entry)
    {
        if (entry.ExpiresAt is { } expires)
        {
            metadata["ttlExpireTime"] = StateApi.FormatTime(expires);
        }
    }

    private PubSub.BrokerMessage Build(string name, string topic, byte[] body, string? contentType, Dictionary<string, string> metadata, TraceContext trace)
    {
        try
        {
            return PublishApi.BuildMessage(sidecar, name, topic, body, contentType, metadata, trace);
        }
        catch (JsonException e)
        {
            throw PublishApi.CloudEventFailed(name, topic, e).ToRpcException();
        }
    }

    private static TraceContext TraceOf(ServerCallContext context) => TraceContext.FromRequest(context.GetHttpContext().Request).NewChild();

    private static string? EmptyAsNull(string value) => value.Length == 0 ? null : value;

    private static void ThrowIf(DaprError? error)
    {
        if (error is not null)
        {
            throw error.ToRpcException();
        }
    }
}

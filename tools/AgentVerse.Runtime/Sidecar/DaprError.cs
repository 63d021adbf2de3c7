using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>
/// An error reply in daprd's shape: <c>{"errorCode":"ERR_X","message":"..."}</c>, plus the
/// <c>google.rpc.ErrorInfo</c> details that daprd's newer "kit" errors carry. The same error on the gRPC API
/// is <see cref="GrpcStatus"/> with the message as its detail (daprd pairs an HTTP and a gRPC code per error).
/// </summary>
internal sealed record DaprError(int Status, string ErrorCode, string Message, string? Reason = null, IReadOnlyDictionary<string, string>? Metadata = null)
{
    /// <summary>The gRPC code daprd answers with; by default the one that goes with <see cref="Status"/>.</summary>
    public StatusCode GrpcStatus { get; init; } = Status switch
    {
        400 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        409 => StatusCode.Aborted,
        _ => StatusCode.Internal,
    };

    public RpcException ToRpcException() => new(new Status(GrpcStatus, Message));

    public Task WriteAsync(HttpResponse response)
    {
        response.StatusCode = Status;
        response.ContentType = "application/json";
        return response.Body.WriteAsync(ToJson()).AsTask();
    }

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("errorCode", ErrorCode);
            json.WriteString("message", Message);
            if (Reason is not null)
            {
                json.WriteStartArray("details");
                json.WriteStartObject();
                json.WriteString("@type", "type.googleapis.com/google.rpc.ErrorInfo");
                json.WriteString("reason", Reason);
                json.WriteString("domain", "dapr.io");
                json.WriteStartObject("metadata");
                foreach (var (key, value) in Metadata ?? new Dictionary<string, string>())
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    // Messages follow daprd's pkg/messages/predefined.go wording so clients that match on text keep working.
    public static DaprError StateStoreNotConfigured() =>
        new(500, "ERR_STATE_STORE_NOT_CONFIGURED", "state store is not configured", "DAPR_STATE_NOT_CONFIGURED") { GrpcStatus = StatusCode.FailedPrecondition };

    public static DaprError StateStoreNotFound(string name) =>
        new(400, "ERR_STATE_STORE_NOT_FOUND", $"state store {name} is not found", "DAPR_STATE_NOT_FOUND",
            new Dictionary<string, string> { ["appID"] = "", ["componentName"] = name });

    public static DaprError Malformed(string message) => new(400, "ERR_MALFORMED_REQUEST", message);

    public static DaprError PubSubNotConfigured() =>
        new(400, "ERR_PUBSUB_NOT_CONFIGURED", "no pubsub is configured", "DAPR_PUBSUB_NOT_CONFIGURED") { GrpcStatus = StatusCode.FailedPrecondition };

    public static DaprError PubSubNotFound(string name) =>
        new(404, "ERR_PUBSUB_NOT_FOUND", $"pubsub {name} not found", "DAPR_PUBSUB_NOT_FOUND",
            new Dictionary<string, string> { ["pubsubName"] = name }) { GrpcStatus = StatusCode.InvalidArgument };

    public static DaprError TopicEmpty(string pubsubName) =>
        new(404, "ERR_TOPIC_NAME_EMPTY", $"topic is empty in pubsub {pubsubName}") { GrpcStatus = StatusCode.InvalidArgument };

    public static DaprError SecretStoreNotConfigured() =>
        new(500, "ERR_SECRET_STORES_NOT_CONFIGURED", "secret store is not configured") { GrpcStatus = StatusCode.FailedPrecondition };

    // daprd answers 401 here, oddly but consistently (pkg/messages/predefined.go).
    public static DaprError SecretStoreNotFound(string name) =>
        new(401, "ERR_SECRET_STORE_NOT_FOUND", $"failed finding secret store with key {name}") { GrpcStatus = StatusCode.InvalidArgument };

    /// <summary>A state store's failure, by its kind: an ETag conflict is 409 (gRPC ABORTED), a malformed ETag 400.</summary>
    public static DaprError StateFailure(Exception e, string errorCode, string message) => e switch
    {
        State.ETagMismatchException => new DaprError(409, errorCode, message),
        State.InvalidETagException => new DaprError(400, errorCode, message),
        _ => new DaprError(500, errorCode, message),
    };

    public static DaprError DirectInvoke(int status, string message) => new(status, "ERR_DIRECT_INVOKE", message);
}

using System.Text.Json;
using AgentVerse.Runtime.PubSub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>Publish and bulk publish (daprd pkg/api/http/http.go onPublish / onBulkPublish).</summary>
internal static class PublishApi
{
    public static void MapPublishApi(this IEndpointRouteBuilder app, Sidecar sidecar)
    {
        app.MapMethods("/v1.0/publish/{pubsubName}/{**topic}", [HttpMethods.Post, HttpMethods.Put], context => PublishAsync(context, sidecar));
        app.MapMethods("/v1.0-alpha1/publish/bulk/{pubsubName}/{**topic}", [HttpMethods.Post, HttpMethods.Put], context => BulkPublishAsync(context, sidecar));
    }

    private static async Task<(IPubSub PubSub, string Name, string Topic)?> ResolveAsync(HttpContext context, Sidecar sidecar)
    {
        var name = (string)context.Request.RouteValues["pubsubName"]!;
        var topic = context.Request.RouteValues["topic"] as string ?? "";
        if (Resolve(sidecar, name, topic, out var pubsub) is { } error)
        {
            await error.WriteAsync(context.Response);
            return null;
        }
        return (pubsub, name, topic);
    }

    /// <summary>The pub/sub component by name, or daprd's error for a missing one or an empty topic (HTTP and gRPC APIs).</summary>
    internal static DaprError? Resolve(Sidecar sidecar, string name, string topic, out IPubSub pubsub)
    {
        pubsub = null!;
        if (sidecar.PubSubs.Count == 0)
        {
            return DaprError.PubSubNotConfigured();
        }
        if (!sidecar.PubSubs.TryGetValue(name, out var component))
        {
            return DaprError.PubSubNotFound(name);
        }
        if (topic.Length == 0)
        {
            return DaprError.TopicEmpty(name);
        }
        pubsub = component.PubSub!;
        return null;
    }

    private static async Task PublishAsync(HttpContext context, Sidecar sidecar)
    {
        if (await ResolveAsync(context, sidecar) is not var (pubsub, name, topic))
        {
            return;
        }
        var metadata = RequestMetadata.FromQuery(context.Request);
        var body = await ReadBodyAsync(context.Request);
        var trace = TraceContext.FromRequest(context.Request).NewChild();
        if (await BuildMessageAsync(context, sidecar, name, topic, body, context.Request.ContentType, metadata, trace) is not { } message)
        {
            return;
        }
        try
        {
            await pubsub.PublishAsync(topic, message, context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await PublishFailed(name, topic, e).WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task BulkPublishAsync(HttpContext context, Sidecar sidecar)
    {
        if (await ResolveAsync(context, sidecar) is not var (pubsub, name, topic))
        {
            return;
        }
        var requestMetadata = RequestMetadata.FromQuery(context.Request);
        var trace = TraceContext.FromRequest(context.Request).NewChild();
        List<(string EntryId, BrokerMessage Message)> entries = [];
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("expected a JSON array of entries");
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in body.RootElement.EnumerateArray())
            {
                var entryId = entry.TryGetProperty("entryId", out var id) ? id.GetString() : null;
                if (string.IsNullOrEmpty(entryId) || !seen.Add(entryId))
                {
                    await new DaprError(400, "ERR_PUBSUB_EVENTS_SER", "error: entryId is duplicated or not present for entry").WriteAsync(context.Response);
                    return;
                }
                var contentType = entry.TryGetProperty("contentType", out var ct) ? ct.GetString() : null;
                var raw = entry.TryGetProperty("event", out var e)
                    ? e.ValueKind == JsonValueKind.String && !IsJsonContentType(contentType) ? System.Text.Encoding.UTF8.GetBytes(e.GetString()!) : JsonSerializer.SerializeToUtf8Bytes(e)
                    : [];
                var metadata = new Dictionary<string, string>(requestMetadata, StringComparer.Ordinal);
                if (entry.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in m.EnumerateObject())
                    {
                        metadata[p.Name] = p.Value.ToString();
                    }
                }
                if (await BuildMessageAsync(context, sidecar, name, topic, raw, contentType, metadata, trace) is not { } message)
                {
                    return;
                }
                entries.Add((entryId, message));
            }
        }
        catch (JsonException e)
        {
            await new DaprError(400, "ERR_PUBSUB_EVENTS_SER", $"error when unmarshaling the request for topic {topic} pubsub {name}: {e.Message}").WriteAsync(context.Response);
            return;
        }

        List<(string EntryId, string Error)> failed = [];
        foreach (var (entryId, message) in entries)
        {
            try
            {
                await pubsub.PublishAsync(topic, message, context.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed.Add((entryId, e.Message));
            }
        }
        if (failed.Count == 0)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteStartArray("failedEntries");
        foreach (var (entryId, error) in failed)
        {
            json.WriteStartObject();
            json.WriteString("entryId", entryId);
            json.WriteString("error", error);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteString("errorCode", "ERR_PUBSUB_PUBLISH_MESSAGE");
        json.WriteEndObject();
    }

    private static async Task<BrokerMessage?> BuildMessageAsync(HttpContext context, Sidecar sidecar, string name, string topic,
        byte[] body, string? contentType, Dictionary<string, string> metadata, TraceContext trace)
    {
        try
        {
            return BuildMessage(sidecar, name, topic, body, contentType, metadata, trace);
        }
        catch (JsonException e)
        {
            await CloudEventFailed(name, topic, e).WriteAsync(context.Response);
            return null;
        }
    }

    /// <summary>
    /// The message as the broker carries it: the body in a CloudEvent (or completing one), unless the metadata asks
    /// for the raw payload. Throws <see cref="JsonException"/> when a CloudEvent body is not a JSON object.
    /// </summary>
    internal static BrokerMessage BuildMessage(Sidecar sidecar, string name, string topic,
        byte[] body, string? contentType, IReadOnlyDictionary<string, string> metadata, TraceContext trace)
    {
        if (string.Equals(metadata.GetValueOrDefault("rawPayload"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return new BrokerMessage(body, contentType ?? "application/octet-stream", metadata);
        }
        var envelope = CloudEvents.Wrap(body, contentType,
            new CloudEvents.PublishContext(name, topic, sidecar.AppId, trace.TraceParent, trace.TraceState, metadata, DateTimeOffset.UtcNow));
        return new BrokerMessage(envelope, CloudEvents.ContentType, metadata);
    }

    internal static DaprError CloudEventFailed(string name, string topic, JsonException e) =>
        new(500, "ERR_PUBSUB_CLOUD_EVENTS_SER", $"error when unmarshaling cloud event envelope for topic {topic} pubsub {name}: {e.Message}")
        {
            GrpcStatus = Grpc.Core.StatusCode.InvalidArgument,
        };

    internal static DaprError PublishFailed(string name, string topic, Exception e) =>
        new(500, "ERR_PUBSUB_PUBLISH_MESSAGE", $"error when publish to topic {topic} in pubsub {name}: {e.Message}");

    private static bool IsJsonContentType(string? contentType) =>
        contentType is not null && (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || CloudEvents.IsCloudEventContentType(contentType));

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        return buffer.ToArray();
    }
}

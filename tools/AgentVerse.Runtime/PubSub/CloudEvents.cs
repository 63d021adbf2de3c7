using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Runtime.PubSub;

/// <summary>
/// CloudEvents wrapping exactly as daprd does on publish (components-contrib pubsub/envelope.go and
/// contenttype/utils.go): a body that is already <c>application/cloudevents+json</c> is completed, anything
/// else is wrapped in a new envelope whose <c>data</c> encoding depends on the content type.
/// </summary>
internal static class CloudEvents
{
    public const string ContentType = "application/cloudevents+json";
    public const string DefaultType = "com.dapr.event.sent";

    /// <summary>Everything the envelope takes from the publish request.</summary>
    public sealed record PublishContext(
        string PubsubName,
        string Topic,
        string Source,
        string TraceParent,
        string? TraceState,
        IReadOnlyDictionary<string, string> Metadata,
        DateTimeOffset Now);

    public static bool IsCloudEventContentType(string? contentType) =>
        MediaType(contentType) is { } media && media.Equals(ContentType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Builds the envelope bytes. Throws <see cref="JsonException"/> when a CloudEvent body is not a JSON object.</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> body, string? contentType, PublishContext context)
    {
        JsonObject envelope;
        if (IsCloudEventContentType(contentType))
        {
            envelope = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("the CloudEvent must be a JSON object");
            envelope.TryAdd("id", Guid.NewGuid().ToString());
            envelope.TryAdd("source", "Dapr");
            envelope.TryAdd("type", DefaultType);
            envelope.TryAdd("specversion", "1.0");
        }
        else
        {
            envelope = new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(),
                ["source"] = context.Source,
                ["type"] = DefaultType,
                ["specversion"] = "1.0",
                ["datacontenttype"] = string.IsNullOrEmpty(contentType) ? "text/plain" : contentType,
            };
            SetData(envelope, body, contentType);
        }

        envelope["topic"] = context.Topic;
        envelope["pubsubname"] = context.PubsubName;
        envelope.TryAdd("traceid", context.TraceParent);
        envelope.TryAdd("traceparent", context.TraceParent);
        if (context.TraceState is not null)
        {
            envelope.TryAdd("tracestate", context.TraceState);
        }
        envelope.TryAdd("time", context.Now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));

        // metadata.cloudevent.* overrides (daprd's ce overrides on publish).
        foreach (var field in new[] { "id", "source", "type", "traceid", "tracestate", "traceparent" })
        {
            if (context.Metadata.TryGetValue("cloudevent." + field, out var value) && value.Length > 0)
            {
                envelope[field] = value;
            }
        }
        if (context.Metadata.TryGetValue("ttlInSeconds", out var ttl) && long.TryParse(ttl, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            // The in-memory broker has no native TTL, so daprd stamps an expiration and checks it on delivery.
            envelope["expiration"] = context.Now.AddSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        }
        return JsonSerializer.SerializeToUtf8Bytes(envelope);
    }

    /// <summary>The event a <c>rawPayload</c> subscription receives: built by Dapr, payload in <c>data_base64</c>.</summary>
    public static byte[] FromRawPayload(ReadOnlySpan<byte> payload, string topic, string pubsubName)
    {
        var envelope = new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["source"] = "Dapr",
            ["type"] = DefaultType,
            ["specversion"] = "1.0",
            ["datacontenttype"] = "application/octet-stream",
            ["data_base64"] = Convert.ToBase64String(payload),
            ["topic"] = topic,
            ["pubsubname"] = pubsubName,
        };
        return JsonSerializer.SerializeToUtf8Bytes(envelope);
    }

    private static void SetData(JsonObject envelope, ReadOnlySpan<byte> body, string? contentType)
    {
        var media = MediaType(contentType);
        if (string.Equals(media, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                envelope["data"] = JsonNode.Parse(body);
                return;
            }
            catch (JsonException)
            {
                // daprd keeps a body that claims JSON but isn't as a plain string.
            }
        }
        else if (string.Equals(media, "application/octet-stream", StringComparison.OrdinalIgnoreCase))
        {
            envelope["data_base64"] = Convert.ToBase64String(body);
            return;
        }
        envelope["data"] = Encoding.UTF8.GetString(body);
    }

    private static string? MediaType(string? contentType) =>
        !string.IsNullOrEmpty(contentType) && MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType : contentType;
}

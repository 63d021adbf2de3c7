using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace AgentVerse.Dapr;

public sealed partial class DaprClient
{
    /// <summary>
    /// Publishes <paramref name="data"/> as JSON (<c>POST /v1.0/publish/{pubsub}/{topic}</c>, <c>application/json</c>);
    /// Dapr wraps it in a CloudEvent. A <see cref="CloudEvent"/> is sent as-is with <c>application/cloudevents+json</c>.
    /// <paramref name="metadata"/> goes as <c>metadata.*</c> query parameters, e.g. <c>rawPayload</c>, <c>ttlInSeconds</c>.
    /// </summary>
    public async Task PublishEventAsync<TData>(
        string pubsubName,
        string topicName,
        TData data,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        using var request = CreatePublishRequest(pubsubName, topicName, metadata);
        request.Content = data is CloudEvent
            ? CreateJsonContent(data, JsonSerializerOptions, CloudEventContentType)
            : CreateJsonContent(data, JsonSerializerOptions);
        using var response = await SendApiAsync(request, cancellationToken);
    }

    /// <summary>Publishes <paramref name="data"/> as JSON (see the overload with metadata).</summary>
    public Task PublishEventAsync<TData>(string pubsubName, string topicName, TData data, CancellationToken cancellationToken)
        => PublishEventAsync(pubsubName, topicName, data, null, cancellationToken);

    /// <summary>Publishes an event without data.</summary>
    public async Task PublishEventAsync(
        string pubsubName, string topicName, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        using var request = CreatePublishRequest(pubsubName, topicName, metadata);
        using var response = await SendApiAsync(request, cancellationToken);
    }

    /// <summary>
    /// Publishes raw bytes with their content type. Dapr puts <c>application/json</c> data in the CloudEvent's
    /// <c>data</c> as JSON, <c>application/octet-stream</c> in <c>data_base64</c>, and anything else in <c>data</c> as a string.
    /// </summary>
    public async Task PublishByteEventAsync(
        string pubsubName,
        string topicName,
        ReadOnlyMemory<byte> data,
        string dataContentType = "application/json",
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataContentType);
        using var request = CreatePublishRequest(pubsubName, topicName, metadata);
        request.Content = new ReadOnlyMemoryContent(data);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(dataContentType);
        using var response = await SendApiAsync(request, cancellationToken);
    }

    /// <summary>Publishes a CloudEvent already serialized as JSON, with <c>application/cloudevents+json</c>.</summary>
    public Task PublishCloudEventAsync(
        string pubsubName,
        string topicName,
        JsonElement cloudEvent,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
        => PublishByteEventAsync(pubsubName, topicName, JsonSerializer.SerializeToUtf8Bytes(cloudEvent), CloudEventContentType, metadata, cancellationToken);

    /// <summary>
    /// Publishes <paramref name="events"/> in one call (<c>POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic}</c>, alpha):
    /// each as JSON (<c>application/json</c>), or as-is for a <see cref="CloudEvent"/> (<c>application/cloudevents+json</c>),
    /// with its index as entry id. Entries the broker refused come back in <see cref="BulkPublishResponse{TValue}.FailedEntries"/>
    /// (daprd's 500 with <c>failedEntries</c>); any other non-2xx reply, e.g. an unknown pub/sub, throws <see cref="DaprApiException"/>.
    /// <paramref name="metadata"/> goes as <c>metadata.*</c> query parameters and applies to every entry.
    /// An empty list makes no call.
    /// </summary>
    public async Task<BulkPublishResponse<TValue>> BulkPublishEventAsync<TValue>(
        string pubsubName,
        string topicName,
        IReadOnlyList<TValue> events,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var request = CreatePublishRequest(pubsubName, topicName, metadata, bulk: true);
        var entries = new BulkPublishEntry<TValue>[events.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var data = events[i];
            entries[i] = new BulkPublishEntry<TValue>(i.ToString(CultureInfo.InvariantCulture), data, data is CloudEvent ? CloudEventContentType : "application/json");
        }

        if (entries.Length == 0)
        {
            return new BulkPublishResponse<TValue>([]);
        }

        request.Content = CreateBulkPublishContent(entries);
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return new BulkPublishResponse<TValue>([]);
        }

        if (await ReadFailedEntriesAsync(response, entries, cancellationToken) is { Count: > 0 } failed)
        {
            return new BulkPublishResponse<TValue>(failed);
        }

        throw await DaprApiException.FromResponseAsync(response, cancellationToken);
    }

    private ByteArrayContent CreateBulkPublishContent<TValue>(BulkPublishEntry<TValue>[] entries)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var entry in entries)
            {
                json.WriteStartObject();
                json.WriteString("entryId", entry.EntryId);
                json.WritePropertyName("event");
                JsonSerializer.Serialize(json, entry.EventData, JsonSerializerOptions);
                json.WriteString("contentType", entry.ContentType);
                if (entry.Metadata is { Count: > 0 })
                {
                    json.WriteStartObject("metadata");
                    foreach (var (name, value) in entry.Metadata)
                    {
                        json.WriteString(name, value);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        var content = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>The entries a failed bulk publish names in <c>failedEntries</c>; empty when the body has none (then the whole call failed).</summary>
    private static async Task<List<BulkPublishResponseFailedEntry<TValue>>> ReadFailedEntriesAsync<TValue>(
        HttpResponseMessage response, BulkPublishEntry<TValue>[] entries, CancellationToken cancellationToken)
    {
        List<BulkPublishResponseFailedEntry<TValue>> failed = [];
        try
        {
            using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            if (body.RootElement.ValueKind != JsonValueKind.Object
                || !body.RootElement.TryGetProperty("failedEntries", out var failedEntries)
                || failedEntries.ValueKind != JsonValueKind.Array)
            {
                return failed;
            }

            foreach (var item in failedEntries.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object
                    && item.TryGetProperty("entryId", out var id) && id.ValueKind == JsonValueKind.String
                    && int.TryParse(id.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                    && index < entries.Length)
                {
                    var error = item.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                    failed.Add(new BulkPublishResponseFailedEntry<TValue>(entries[index], error ?? "The event was not published."));
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the whole call failed, which the caller reports.
        }

        return failed;
    }

    internal const string CloudEventContentType = "application/cloudevents+json";

    private HttpRequestMessage CreatePublishRequest(string pubsubName, string topicName, IReadOnlyDictionary<string, string>? metadata, bool bulk = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(pubsubName);
        ArgumentException.ThrowIfNullOrEmpty(topicName);
        // Topics may contain '/', which daprd's route takes literally, so escape segment by segment.
        var topic = string.Join('/', topicName.Split('/').Select(Uri.EscapeDataString));
        var api = bulk ? "v1.0-alpha1/publish/bulk" : "v1.0/publish";
        return CreateApiRequest(HttpMethod.Post, $"{api}/{Uri.EscapeDataString(pubsubName)}/{topic}", metadata);
    }
}

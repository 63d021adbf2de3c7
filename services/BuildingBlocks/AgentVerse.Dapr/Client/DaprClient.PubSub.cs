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

    internal const string CloudEventContentType = "application/cloudevents+json";

    private HttpRequestMessage CreatePublishRequest(string pubsubName, string topicName, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(pubsubName);
        ArgumentException.ThrowIfNullOrEmpty(topicName);
        // Topics may contain '/', which daprd's route takes literally, so escape segment by segment.
        var topic = string.Join('/', topicName.Split('/').Select(Uri.EscapeDataString));
        return CreateApiRequest(HttpMethod.Post, $"v1.0/publish/{Uri.EscapeDataString(pubsubName)}/{topic}", metadata);
    }
}

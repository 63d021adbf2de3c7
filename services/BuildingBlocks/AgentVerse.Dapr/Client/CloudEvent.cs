using System.Text.Json.Serialization;

namespace AgentVerse.Dapr;

/// <summary>
/// A CloudEvent the app builds itself. Passed to <see cref="DaprClient.PublishEventAsync{TData}(string, string, TData, IReadOnlyDictionary{string, string}?, CancellationToken)"/>
/// it is sent as <c>application/cloudevents+json</c>, so Dapr keeps its attributes instead of wrapping it again
/// (Dapr still fills in <c>topic</c>, <c>pubsubname</c>, trace fields and any missing <c>id</c>/<c>specversion</c>).
/// </summary>
public class CloudEvent
{
    /// <summary>Event id; Dapr generates one when null.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary>CloudEvents spec version.</summary>
    [JsonPropertyName("specversion")]
    public string SpecVersion { get; init; } = "1.0";

    /// <summary>Who emitted the event.</summary>
    [JsonPropertyName("source")]
    public Uri? Source { get; init; }

    /// <summary>Event type, e.g. <c>com.agentverse.order.created</c>; what subscription rules usually match on.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    /// <summary>The subject of the event within the source.</summary>
    [JsonPropertyName("subject")]
    public string? Subject { get; init; }

    /// <summary>When the event happened.</summary>
    [JsonPropertyName("time")]
    public DateTimeOffset? Time { get; init; }
}

/// <summary>A <see cref="CloudEvent"/> with a JSON payload.</summary>
/// <typeparam name="TData">Type of the payload.</typeparam>
public class CloudEvent<TData> : CloudEvent
{
    /// <summary>Creates an event carrying <paramref name="data"/>.</summary>
    public CloudEvent(TData data) => Data = data;

    /// <summary>The payload.</summary>
    [JsonPropertyName("data")]
    public TData Data { get; }

    /// <summary>Content type of <see cref="Data"/>.</summary>
    [JsonPropertyName("datacontenttype")]
    public string DataContentType { get; init; } = "application/json";
}

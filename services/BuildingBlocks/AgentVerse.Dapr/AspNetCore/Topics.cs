using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentVerse.Dapr;

/// <summary>Endpoint metadata declaring that an endpoint receives a pub/sub topic (read by <see cref="SubscribeHandlerEndpointRouteBuilderExtensions.MapSubscribeHandler"/>).</summary>
public interface ITopicMetadata
{
    /// <summary>Pub/sub component name.</summary>
    string PubsubName { get; }

    /// <summary>Topic name.</summary>
    string Name { get; }

    /// <summary>Topic that dropped or undeliverable messages go to; null for none.</summary>
    string? DeadLetterTopic { get; }

    /// <summary>CEL expression over the CloudEvent (<c>event.type == "order"</c>); null makes this the topic's default route.</summary>
    string? Match { get; }

    /// <summary>Order of the rule among the topic's rules: lower is tried first.</summary>
    int Priority { get; }

    /// <summary>Subscription metadata, e.g. <c>rawPayload</c>.</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }
}

/// <summary>Declares a topic subscription on a handler or delegate: <c>app.MapPost("/orders", [Topic("pubsub", "orders")] (Order o) => …)</c>.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = true)]
public sealed class TopicAttribute(string pubsubName, string name) : Attribute, ITopicMetadata
{
    /// <inheritdoc />
    public string PubsubName { get; } = pubsubName;

    /// <inheritdoc />
    public string Name { get; } = name;

    /// <inheritdoc />
    public string? DeadLetterTopic { get; init; }

    /// <inheritdoc />
    public new string? Match { get; init; }

    /// <inheritdoc />
    public int Priority { get; init; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();
}

/// <summary>Topic subscription metadata added by <see cref="TopicEndpointConventionBuilderExtensions.WithTopic"/>.</summary>
/// <param name="PubsubName">Pub/sub component name.</param>
/// <param name="Name">Topic name.</param>
/// <param name="DeadLetterTopic">Dead-letter topic.</param>
/// <param name="Match">CEL match expression; null for the default route.</param>
/// <param name="Priority">Rule order, lower first.</param>
/// <param name="Metadata">Subscription metadata.</param>
public sealed record TopicMetadata(
    string PubsubName,
    string Name,
    string? DeadLetterTopic,
    string? Match,
    int Priority,
    IReadOnlyDictionary<string, string> Metadata) : ITopicMetadata;

/// <summary>Subscribes endpoints to topics.</summary>
public static class TopicEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Subscribes the endpoint to <paramref name="topicName"/> on <paramref name="pubsubName"/>; Dapr learns of it through
    /// <see cref="SubscribeHandlerEndpointRouteBuilderExtensions.MapSubscribeHandler"/>. With <paramref name="match"/>, the endpoint
    /// gets only events the CEL expression accepts (rules tried by <paramref name="priority"/>); without, it is the topic's default route.
    /// </summary>
    /// <param name="builder">The endpoint.</param>
    /// <param name="pubsubName">Pub/sub component name.</param>
    /// <param name="topicName">Topic name.</param>
    /// <param name="deadLetterTopic">Topic for messages that are dropped or run out of retries.</param>
    /// <param name="match">CEL expression over the CloudEvent, e.g. <c>event.type == "order.created"</c>.</param>
    /// <param name="priority">Rule order, lower first.</param>
    /// <param name="metadata">Subscription metadata, e.g. <c>rawPayload=true</c>.</param>
    public static TBuilder WithTopic<TBuilder>(
        this TBuilder builder,
        string pubsubName,
        string topicName,
        string? deadLetterTopic = null,
        string? match = null,
        int priority = 0,
        IReadOnlyDictionary<string, string>? metadata = null)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(pubsubName);
        ArgumentException.ThrowIfNullOrEmpty(topicName);
        return builder.WithMetadata(new TopicMetadata(pubsubName, topicName, deadLetterTopic, match, priority, metadata ?? new Dictionary<string, string>()));
    }
}

/// <summary>How Dapr should treat a delivered message.</summary>
public enum TopicStatus
{
    /// <summary>Processed: ack it.</summary>
    [JsonStringEnumMemberName("SUCCESS")]
    Success,

    /// <summary>Not processed now: deliver it again per the resiliency policy.</summary>
    [JsonStringEnumMemberName("RETRY")]
    Retry,

    /// <summary>Never processable: drop it (to the dead-letter topic if there is one).</summary>
    [JsonStringEnumMemberName("DROP")]
    Drop,
}

/// <summary>The body Dapr reads from a topic handler's 200 reply.</summary>
/// <param name="Status">What Dapr should do with the message.</param>
public sealed record TopicResponse([property: JsonConverter(typeof(JsonStringEnumConverter<TopicStatus>))] TopicStatus Status);

/// <summary>
/// Results for topic handlers: 200 with <c>{"status":"SUCCESS|RETRY|DROP"}</c>. Typed, so they compose in
/// <c>Results&lt;…&gt;</c>. Note a 404 makes Dapr drop the message <em>without</em> dead-lettering it, and any other
/// non-2xx (an unhandled exception's 500 included) makes it retry.
/// </summary>
public static class TopicResults
{
    /// <summary>Ack the message.</summary>
    public static Ok<TopicResponse> Success() => TypedResults.Ok(new TopicResponse(TopicStatus.Success));

    /// <summary>Deliver the message again.</summary>
    public static Ok<TopicResponse> Retry() => TypedResults.Ok(new TopicResponse(TopicStatus.Retry));

    /// <summary>Drop the message (sent to the dead-letter topic if configured).</summary>
    public static Ok<TopicResponse> Drop() => TypedResults.Ok(new TopicResponse(TopicStatus.Drop));
}

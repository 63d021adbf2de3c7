namespace AgentVerse.Runtime.PubSub;

/// <summary>A publish refused because a consumer group's queue is at capacity (the sidecar answers 500 ERR_PUBSUB_PUBLISH_MESSAGE).</summary>
public sealed class PubSubQueueFullException(string topic, string consumerGroup, int capacity)
    : Exception($"topic '{topic}': the queue of consumer group '{consumerGroup}' is full ({capacity} messages)")
{
    public string Topic { get; } = topic;
    public string ConsumerGroup { get; } = consumerGroup;
}

namespace AgentVerse.Runtime.PubSub;

/// <summary>
/// A pub/sub broker component. Delivery policy (retries, dead letters, routing) lives in the sidecar,
/// not here: the broker hands each message to each subscription and redelivers when the handler throws.
/// </summary>
public interface IPubSub : IAsyncDisposable
{
    Task PublishAsync(string topic, BrokerMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Registers a consumer. Messages on one topic reach one subscription in publish order, one at a time:
    /// the next is not handed over until <paramref name="handler"/> completes.
    /// Consumers with the same <paramref name="consumerGroup"/> share the messages (competing consumers).
    /// </summary>
    IAsyncDisposable Subscribe(string topic, string consumerGroup, Func<BrokerMessage, CancellationToken, Task> handler);
}

/// <summary>A message as the broker carries it: the (usually CloudEvent) bytes plus metadata.</summary>
public sealed record BrokerMessage(ReadOnlyMemory<byte> Data, string ContentType, IReadOnlyDictionary<string, string> Metadata);

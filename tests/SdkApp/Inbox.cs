using System.Collections.Concurrent;

namespace AgentVerse.SdkApp;

public sealed record Order(string Id, int Amount);

/// <summary>What the subscriptions received, by topic, for the tests to read back.</summary>
public sealed class Inbox
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Order>> _received = new();
    private readonly ConcurrentDictionary<string, int> _attempts = new();

    public void Add(string topic, Order order) => _received.GetOrAdd(topic, _ => new()).Enqueue(order);

    /// <summary>Counts a delivery attempt of <paramref name="order"/> on <paramref name="topic"/>; returns the count so far.</summary>
    public int Attempt(string topic, Order order)
    {
        var count = _attempts.AddOrUpdate($"{topic}/{order.Id}", 1, (_, n) => n + 1);
        Add(topic, order);
        return count;
    }

    public IReadOnlyList<Order> Received(string topic) => _received.TryGetValue(topic, out var queue) ? [.. queue] : [];

    public IReadOnlyDictionary<string, int> Attempts(string topic) =>
        _attempts.Where(a => a.Key.StartsWith(topic + "/", StringComparison.Ordinal)).ToDictionary(a => a.Key[(topic.Length + 1)..], a => a.Value);
}

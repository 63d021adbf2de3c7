using System.Threading.Channels;
using AgentVerse.Runtime.Components;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Runtime.PubSub;

/// <summary>
/// <c>pubsub.in-memory</c>: a broker inside the process, shared by every sidecar that loads the component.
/// Each (topic, consumer group) has its own bounded queue; a publish goes to every group subscribed to the topic.
/// A group hands its messages out one at a time, in publish order, round-robin over the group's subscribers,
/// and waits for the handler to finish before the next. A handler that throws gets the message again after
/// <see cref="RedeliveryDelay"/>. Messages on a topic with no subscriber are dropped, as Dapr's in-memory broker does.
/// </summary>
public sealed class InMemoryPubSub : IPubSub
{
    /// <summary>Queue length per (topic, consumer group) beyond which a publish is refused.</summary>
    public const int DefaultMaxQueueLength = 10_000;

    private readonly Dictionary<string, Dictionary<string, ConsumerGroup>> _topics = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private bool _disposed;

    // Set while a handler runs, so that a handler which unsubscribes (or disposes the broker) does not wait for itself.
    private static readonly AsyncLocal<ConsumerGroup?> s_deliveringGroup = new();

    /// <param name="logger">handler failures are logged here</param>
    /// <param name="timeProvider">drives the redelivery delay</param>
    /// <param name="maxQueueLength">per (topic, group) cap</param>
    /// <param name="redeliveryDelay">wait before redelivering a message whose handler threw (default 1s)</param>
    public InMemoryPubSub(ILogger<InMemoryPubSub>? logger = null, TimeProvider? timeProvider = null, int maxQueueLength = DefaultMaxQueueLength, TimeSpan? redeliveryDelay = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxQueueLength);
        _logger = logger ?? NullLogger<InMemoryPubSub>.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        MaxQueueLength = maxQueueLength;
        RedeliveryDelay = redeliveryDelay ?? TimeSpan.FromSeconds(1);
    }

    public int MaxQueueLength { get; }

    public TimeSpan RedeliveryDelay { get; }

    /// <summary>Creates the broker for a <c>pubsub.in-memory</c> component (it has no metadata of its own).</summary>
    public static InMemoryPubSub Create(ComponentDefinition definition, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        return new InMemoryPubSub(loggerFactory.CreateLogger<InMemoryPubSub>(), timeProvider);
    }

    /// <exception cref="PubSubQueueFullException">a subscribed group's queue holds <see cref="MaxQueueLength"/> messages; nothing was enqueued</exception>
    /// <exception cref="ObjectDisposedException">the broker is disposed</exception>
    public Task PublishAsync(string topic, BrokerMessage message, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_topics.TryGetValue(topic, out var groups) || groups.Count == 0)
            {
                return Task.CompletedTask; // nobody listens: dropped
            }

            // Check every queue before writing to any, so a refused publish reaches no group at all.
            // Holding the lock also gives every group the same order when publishers race.
            var full = groups.Values.FirstOrDefault(g => g.Count >= MaxQueueLength);
            if (full is not null)
            {
                throw new PubSubQueueFullException(topic, full.Name, MaxQueueLength);
            }
            foreach (var group in groups.Values)
            {
                group.Enqueue(message);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Registers <paramref name="handler"/> in <paramref name="consumerGroup"/> of <paramref name="topic"/>.
    /// Disposing the returned handle cancels the token given to the handler, waits for a call in progress to end,
    /// and stops deliveries to it; when it was the group's last subscriber, the group and its queue are removed.
    /// </summary>
    public IAsyncDisposable Subscribe(string topic, string consumerGroup, Func<BrokerMessage, CancellationToken, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(consumerGroup);
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_topics.TryGetValue(topic, out var groups))
            {
                _topics[topic] = groups = new Dictionary<string, ConsumerGroup>(StringComparer.Ordinal);
            }
            if (!groups.TryGetValue(consumerGroup, out var group))
            {
                groups[consumerGroup] = group = new ConsumerGroup(this, topic, consumerGroup);
                group.Start();
            }
            return group.Add(handler);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<ConsumerGroup> groups;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            groups = _topics.Values.SelectMany(g => g.Values).ToList();
            _topics.Clear();
        }
        foreach (var group in groups)
        {
            await group.DisposeAsync();
        }
    }

    private async Task RemoveAsync(Subscription subscription)
    {
        var group = subscription.Group;
        var stopGroup = false;
        lock (_lock)
        {
            if (!group.Remove(subscription))
            {
                return;
            }
            if (group.SubscriberCount == 0 && _topics.TryGetValue(group.Topic, out var groups) && groups.GetValueOrDefault(group.Name) == group)
            {
                groups.Remove(group.Name);
                if (groups.Count == 0)
                {
                    _topics.Remove(group.Topic);
                }
                stopGroup = true;
            }
        }

        await subscription.CancelAndWaitAsync();
        if (stopGroup)
        {
            await group.DisposeAsync();
        }
    }

    /// <summary>One queue and one delivery loop: that is what makes delivery in-order and one-at-a-time.</summary>
    private sealed class ConsumerGroup(InMemoryPubSub broker, string topic, string name) : IAsyncDisposable
    {
        // Not SingleReader: that variant cannot Count, which the capacity check needs. The cap is enforced by
        // PublishAsync under the broker lock, so that a publish is refused for all groups or none.
        private readonly Channel<BrokerMessage> _queue = Channel.CreateUnbounded<BrokerMessage>();
        private readonly List<Subscription> _subscribers = [];
        private readonly CancellationTokenSource _stop = new();
        private int _next;
        private Task _loop = Task.CompletedTask;

        public string Topic { get; } = topic;
        public string Name { get; } = name;

        // Guarded by the broker lock, like every member below that touches _subscribers.
        public int Count => _queue.Reader.Count;
        public int SubscriberCount => _subscribers.Count;

        public void Start()
        {
            // The loop outlives the call that created the group: don't let it carry that caller's
            // AsyncLocals (Activity.Current, logging scopes) into every later delivery.
            using (ExecutionContext.SuppressFlow())
            {
                _loop = Task.Run(RunAsync);
            }
        }

        public void Enqueue(BrokerMessage message) => _queue.Writer.TryWrite(message);

        public Subscription Add(Func<BrokerMessage, CancellationToken, Task> handler)
        {
            var subscription = new Subscription(broker, this, handler);
            _subscribers.Add(subscription);
            return subscription;
        }

        public bool Remove(Subscription subscription) => _subscribers.Remove(subscription);

        public async ValueTask DisposeAsync()
        {
            _queue.Writer.TryComplete();
            await _stop.CancelAsync();
            List<Subscription> remaining;
            lock (broker._lock)
            {
                remaining = [.. _subscribers];
                _subscribers.Clear();
            }
            foreach (var s in remaining)
            {
                await s.CancelAndWaitAsync();
            }
            if (s_deliveringGroup.Value == this)
            {
                return; // called from this group's own handler: the loop ends once the handler returns
            }
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task RunAsync()
        {
            var token = _stop.Token;
            while (await _queue.Reader.WaitToReadAsync(token))
            {
                while (_queue.Reader.TryRead(out var message))
                {
                    await DeliverAsync(message, token);
                }
            }
        }

        private async Task DeliverAsync(BrokerMessage message, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                Subscription? subscriber;
                TaskCompletionSource done;
                lock (broker._lock)
                {
                    if (_subscribers.Count == 0)
                    {
                        return; // the last subscriber left while the message was queued: dropped with the group
                    }
                    _next %= _subscribers.Count;
                    subscriber = _subscribers[_next++];
                    done = subscriber.BeginDelivery();
                }

                try
                {
                    s_deliveringGroup.Value = this;
                    await subscriber.Handler(message, subscriber.Token);
                    return;
                }
                catch (OperationCanceledException) when (subscriber.Token.IsCancellationRequested)
                {
                    // That subscriber is going away: hand the message to another one straight away.
                    continue;
                }
                catch (Exception ex)
                {
                    broker._logger.LogWarning(ex, "Handler for topic {Topic}, consumer group {Group} failed; redelivering in {Delay}", Topic, Name, broker.RedeliveryDelay);
                }
                finally
                {
                    s_deliveringGroup.Value = null;
                    done.TrySetResult();
                }

                try
                {
                    await Task.Delay(broker.RedeliveryDelay, broker._timeProvider, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private sealed class Subscription(InMemoryPubSub broker, ConsumerGroup group, Func<BrokerMessage, CancellationToken, Task> handler) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private Task _inFlight = Task.CompletedTask;

        public ConsumerGroup Group { get; } = group;
        public Func<BrokerMessage, CancellationToken, Task> Handler { get; } = handler;
        public CancellationToken Token => _cancel.Token;

        // Called under the broker lock, so Remove + CancelAndWait either sees this delivery or prevents it.
        public TaskCompletionSource BeginDelivery()
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _inFlight = done.Task;
            return done;
        }

        public async Task CancelAndWaitAsync()
        {
            Task inFlight;
            lock (broker._lock)
            {
                inFlight = _inFlight;
            }
            await _cancel.CancelAsync();
            if (s_deliveringGroup.Value != Group)
            {
                await inFlight; // unless the handler is unsubscribing itself, which would wait for itself forever
            }
        }

        public ValueTask DisposeAsync() => new(broker.RemoveAsync(this));
    }
}

using System.Collections.Concurrent;
using System.Text;
using AgentVerse.Runtime.PubSub;

namespace AgentVerse.Runtime.Tests.Components;

// Every test has a timeout so that a broker deadlock shows up as a named failure instead of a hung run.
public sealed class InMemoryPubSubTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly InMemoryPubSub _broker = new(redeliveryDelay: TimeSpan.FromMilliseconds(20));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private static BrokerMessage Message(int n) =>
        new(Encoding.UTF8.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture)), "text/plain", new Dictionary<string, string>());

    private static int Number(BrokerMessage m) => int.Parse(Encoding.UTF8.GetString(m.Data.Span), System.Globalization.CultureInfo.InvariantCulture);

    private Task PublishAsync(string topic, int n) => _broker.PublishAsync(topic, Message(n), CancellationToken.None);

    /// <summary>Collects delivered numbers and completes when <paramref name="expected"/> have arrived.</summary>
    private sealed class Collector(int expected)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentQueue<int> Received { get; } = new();

        public Task Handle(BrokerMessage m, CancellationToken ct)
        {
            Received.Enqueue(Number(m));
            if (Received.Count >= expected)
            {
                _done.TrySetResult();
            }
            return Task.CompletedTask;
        }

        public Task Done => _done.Task.WaitAsync(Patience);
    }

    [Fact(Timeout = 60_000)]
    public async Task Thousand_messages_reach_one_subscriber_in_publish_order()
    {
        var collector = new Collector(1000);
        await using var _ = _broker.Subscribe("orders", "app", collector.Handle);

        for (var i = 0; i < 1000; i++)
        {
            await PublishAsync("orders", i);
        }

        await collector.Done;
        Assert.Equal(Enumerable.Range(0, 1000), collector.Received);
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_consumer_group_gets_every_message()
    {
        var a = new Collector(100);
        var b = new Collector(100);
        await using var subA = _broker.Subscribe("orders", "billing", a.Handle);
        await using var subB = _broker.Subscribe("orders", "shipping", b.Handle);

        for (var i = 0; i < 100; i++)
        {
            await PublishAsync("orders", i);
        }

        await Task.WhenAll(a.Done, b.Done);
        Assert.Equal(Enumerable.Range(0, 100), a.Received);
        Assert.Equal(Enumerable.Range(0, 100), b.Received);
    }

    [Fact(Timeout = 60_000)]
    public async Task Subscribers_in_one_group_compete_round_robin_and_each_message_is_delivered_once()
    {
        var all = new Collector(100);
        var first = new ConcurrentQueue<int>();
        var second = new ConcurrentQueue<int>();
        await using var s1 = _broker.Subscribe("orders", "workers", (m, ct) => { first.Enqueue(Number(m)); return all.Handle(m, ct); });
        await using var s2 = _broker.Subscribe("orders", "workers", (m, ct) => { second.Enqueue(Number(m)); return all.Handle(m, ct); });

        for (var i = 0; i < 100; i++)
        {
            await PublishAsync("orders", i);
        }

        await all.Done;
        Assert.Equal(Enumerable.Range(0, 100), all.Received);
        Assert.Equal(50, first.Count);
        Assert.Equal(50, second.Count);
        Assert.Empty(first.Intersect(second));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_group_never_runs_two_handler_calls_at_once()
    {
        var running = 0;
        var maxRunning = 0;
        var all = new Collector(40);
        async Task Slow(BrokerMessage m, CancellationToken ct)
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            await Task.Delay(2, ct);
            Interlocked.Decrement(ref running);
            await all.Handle(m, ct);
        }
        await using var s1 = _broker.Subscribe("orders", "workers", Slow);
        await using var s2 = _broker.Subscribe("orders", "workers", Slow);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => PublishAsync("orders", i))));

        await all.Done;
        Assert.Equal(1, maxRunning);
        Assert.Equal(Enumerable.Range(0, 40), all.Received.Order());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failing_handler_gets_the_message_again_before_the_next_one()
    {
        var attempts = 0;
        var all = new Collector(3);
        await using var sub = _broker.Subscribe("orders", "app", (m, ct) =>
        {
            if (Number(m) == 1 && Interlocked.Increment(ref attempts) < 3)
            {
                throw new InvalidOperationException("transient");
            }
            return all.Handle(m, ct);
        });

        for (var i = 0; i < 3; i++)
        {
            await PublishAsync("orders", i);
        }

        await all.Done;
        Assert.Equal([0, 1, 2], all.Received);
        Assert.Equal(3, attempts);
    }

    [Fact(Timeout = 60_000)]
    public async Task Messages_published_before_anyone_subscribes_are_dropped()
    {
        await PublishAsync("orders", 1);
        var collector = new Collector(1);
        await using var sub = _broker.Subscribe("orders", "app", collector.Handle);

        await PublishAsync("orders", 2);

        await collector.Done;
        Assert.Equal([2], collector.Received);
    }

    [Fact(Timeout = 60_000)]
    public async Task Topics_are_independent()
    {
        var orders = new Collector(1);
        var payments = new Collector(1);
        await using var s1 = _broker.Subscribe("orders", "app", orders.Handle);
        await using var s2 = _broker.Subscribe("payments", "app", payments.Handle);

        await PublishAsync("orders", 1);
        await PublishAsync("payments", 2);

        await Task.WhenAll(orders.Done, payments.Done);
        Assert.Equal([1], orders.Received);
        Assert.Equal([2], payments.Received);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dispose_cancels_and_waits_for_the_call_in_progress_then_stops_delivery()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var sawCancellation = false;
        var sub = _broker.Subscribe("orders", "app", async (m, ct) =>
        {
            Interlocked.Increment(ref calls);
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                sawCancellation = true;
                throw;
            }
        });
        await PublishAsync("orders", 1);
        await started.Task.WaitAsync(Patience);

        await sub.DisposeAsync();

        Assert.True(sawCancellation);
        await PublishAsync("orders", 2);
        await Task.Delay(100);
        Assert.Equal(1, calls);
    }

    [Fact(Timeout = 60_000)]
    public async Task When_one_of_two_subscribers_leaves_the_other_gets_everything()
    {
        var all = new Collector(10);
        var leaving = _broker.Subscribe("orders", "workers", (m, ct) => Task.CompletedTask);
        await using var staying = _broker.Subscribe("orders", "workers", all.Handle);
        await leaving.DisposeAsync();

        for (var i = 0; i < 10; i++)
        {
            await PublishAsync("orders", i);
        }

        await all.Done;
        Assert.Equal(Enumerable.Range(0, 10), all.Received);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_handler_may_unsubscribe_itself_without_deadlock()
    {
        var unsubscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IAsyncDisposable? self = null;
        self = _broker.Subscribe("orders", "app", async (m, ct) =>
        {
            await self!.DisposeAsync();
            unsubscribed.TrySetResult();
        });

        await PublishAsync("orders", 1);

        await unsubscribed.Task.WaitAsync(Patience);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_full_queue_refuses_the_publish_for_every_group()
    {
        await using var broker = new InMemoryPubSub(maxQueueLength: 2);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fast = new ConcurrentQueue<int>();
        await using var slow = broker.Subscribe("orders", "slow", async (m, ct) => { started.TrySetResult(); await release.Task; });
        await using var quick = broker.Subscribe("orders", "quick", (m, ct) => { fast.Enqueue(Number(m)); return Task.CompletedTask; });
        // Each message waits until the quick group has handled the one before: on a busy machine it lags, and its
        // queue, not the slow group's, would fill first.
        async Task PublishAfterQuickCaughtUpAsync(int number)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (fast.Count < number && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }

            await broker.PublishAsync("orders", Message(number), CancellationToken.None);
        }

        try
        {
            await PublishAfterQuickCaughtUpAsync(0);
            await started.Task.WaitAsync(Patience); // message 0 is in the slow handler, out of its queue
            await PublishAfterQuickCaughtUpAsync(1);
            await PublishAfterQuickCaughtUpAsync(2);

            var ex = await Assert.ThrowsAsync<PubSubQueueFullException>(() => PublishAfterQuickCaughtUpAsync(3));

            Assert.Equal([0, 1, 2], fast);
            Assert.Equal(("orders", "slow"), (ex.Topic, ex.ConsumerGroup));
        }
        finally
        {
            release.TrySetResult(); // else disposing the slow subscription waits for its handler forever
        }

        await Task.Delay(100);
        Assert.DoesNotContain(3, fast);
    }

    [Fact(Timeout = 60_000)]
    public async Task Handlers_do_not_inherit_the_subscribers_async_locals()
    {
        var local = new AsyncLocal<string?>();
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        local.Value = "subscriber's request";
        await using var sub = _broker.Subscribe("orders", "app", (m, ct) => { seen.TrySetResult(local.Value); return Task.CompletedTask; });
        local.Value = null;

        await PublishAsync("orders", 1);

        Assert.Null(await seen.Task.WaitAsync(Patience));
    }

    [Fact(Timeout = 60_000)]
    public async Task Disposing_the_broker_stops_everything_and_refuses_further_use()
    {
        var broker = new InMemoryPubSub();
        var calls = 0;
        broker.Subscribe("orders", "app", (m, ct) => { Interlocked.Increment(ref calls); return Task.CompletedTask; });

        await broker.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => broker.PublishAsync("orders", Message(1), CancellationToken.None));
        Assert.Throws<ObjectDisposedException>(() => broker.Subscribe("orders", "app", (m, ct) => Task.CompletedTask));
        Assert.Equal(0, calls);
    }
}

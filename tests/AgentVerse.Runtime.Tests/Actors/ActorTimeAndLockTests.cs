using AgentVerse.Runtime.Actors;

namespace AgentVerse.Runtime.Tests.Actors;

/// <summary>Reminder/timer time formats and the per-actor turn lock, without HTTP.</summary>
public sealed class ActorTimeAndLockTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 31, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("", 0)]
    [InlineData("0h0m3s0ms", 3)]
    [InlineData("1m", 60)]
    [InlineData("0.5s", 0.5)]
    [InlineData("PT10S", 10)]
    [InlineData("PT1M30S", 90)]
    [InlineData("P1DT1H", 90_000)]
    public void Due_times_accept_go_and_iso_8601_durations(string text, double seconds)
    {
        Assert.True(ActorTime.TryParseDueTime(text, Now, out var due));
        Assert.Equal(Now.AddSeconds(seconds), due);
    }

    [Fact]
    public void A_due_time_may_be_an_rfc3339_instant()
    {
        Assert.True(ActorTime.TryParseDueTime("2026-02-01T08:30:00Z", Now, out var due));
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 8, 30, 0, TimeSpan.Zero), due);
        Assert.True(ActorTime.TryParseTtl("2026-02-01T08:30:00+01:00", Now, out var ttl));
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 7, 30, 0, TimeSpan.Zero), ttl);
    }

    [Fact]
    public void Periods_carry_repetitions_and_calendar_months()
    {
        Assert.True(ActorTime.TryParsePeriod("R5/PT1M30S", out var repeated));
        Assert.Equal(5, repeated!.Repetitions);
        Assert.Equal(Now.AddSeconds(90), repeated.Next(Now));

        Assert.True(ActorTime.TryParsePeriod("P1M", out var monthly));
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 12, 0, 0, TimeSpan.Zero), monthly!.Next(Now)); // Jan 31 + 1 month

        Assert.True(ActorTime.TryParsePeriod("", out var none));
        Assert.Null(none);
        Assert.False(ActorTime.TryParsePeriod("every day", out _));
        Assert.False(ActorTime.TryParsePeriod("R/PT1S", out _));
        Assert.False(ActorTime.TryParseDueTime("10", Now, out _)); // bare numbers are not actor durations
    }

    [Fact]
    public async Task The_turn_lock_serves_waiters_in_arrival_order()
    {
        var turnLock = new ActorTurnLock();
        await turnLock.AcquireAsync(null, 32, CancellationToken.None);
        var order = new List<int>();
        // Each AcquireAsync queues its waiter before returning, so the loop fixes the arrival order.
        var waiters = Enumerable.Range(0, 5).Select(i => turnLock.AcquireAsync(null, 32, CancellationToken.None).ContinueWith(_ =>
        {
            lock (order)
            {
                order.Add(i);
            }
            turnLock.Release();
        }, TaskScheduler.Default)).ToList();
        Assert.Empty(order);
        turnLock.Release();
        await Task.WhenAll(waiters);
        Assert.Equal([0, 1, 2, 3, 4], order);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_queue_and_the_lock_stays_usable()
    {
        var turnLock = new ActorTurnLock();
        await turnLock.AcquireAsync("chain-a", 32, CancellationToken.None);
        using var cancel = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => turnLock.AcquireAsync("chain-b", 32, cancel.Token));

        await turnLock.AcquireAsync("chain-a", 2, CancellationToken.None); // same chain re-enters
        Assert.Throws<ActorStackDepthException>(() => turnLock.AcquireAsync("chain-a", 2, CancellationToken.None).GetAwaiter().GetResult());
        turnLock.Release();
        turnLock.Release();
        Assert.False(turnLock.IsHeld);
        Assert.True(turnLock.TryAcquireIdle());
    }
}

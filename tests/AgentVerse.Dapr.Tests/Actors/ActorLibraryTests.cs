using AgentVerse.Dapr.Actors;
using System.Net;
using System.Text.Json;

namespace AgentVerse.Dapr.Tests.Actors;

/// <summary>Actors hosted with AgentVerse.Dapr behind a real LocalRuntime sidecar, called through the library's proxies.</summary>
public sealed class ActorLibraryTests
{
    private static Task<ActorHostRun> StartAsync(Action<ActorRuntimeOptions>? configure = null) =>
        ActorHostRun.StartAsync(options =>
        {
            options.RegisterActor<CounterActor>();
            configure?.Invoke(options);
        });

    [Fact]
    public async Task A_typed_proxy_round_trips_arguments_and_results_through_the_sidecar()
    {
        await using var run = await StartAsync();
        var counter = ActorProxy.Create<ICounterActor>(new ActorId("round-trip"), "CounterActor", run.ProxyOptions);

        Assert.Equal(2, await counter.IncrementAsync(2));
        Assert.Equal(5, await counter.IncrementAsync(3));
        var snapshot = await counter.SnapshotAsync(CancellationToken.None);
        Assert.Equal(new CounterSnapshot("round-trip", 5, []), snapshot with { Events = [] });

        // Method names on the wire are the interface method names, as the Dapr .NET SDK sends them.
        using var raw = await run.Sidecar.PutAsync("v1.0/actors/CounterActor/round-trip/method/GetCountAsync", null);
        Assert.Equal("5", await raw.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_by_name_proxy_calls_methods_and_reports_an_unknown_method_as_the_sidecar_error()
    {
        await using var run = await StartAsync();
        var proxy = ActorProxy.Create(new ActorId("by-name"), "CounterActor", run.ProxyOptions);

        Assert.Equal(7, await proxy.InvokeMethodAsync<int, int>("IncrementAsync", 7));
        Assert.Equal(7, await proxy.InvokeMethodAsync<int>("GetCount")); // the Async suffix may be left off

        var error = await Assert.ThrowsAsync<ActorInvocationException>(() => proxy.InvokeMethodAsync("NoSuchMethod"));
        Assert.Equal(500, error.StatusCode);
        Assert.Equal("ERR_ACTOR_INVOKE_METHOD", error.ErrorCode);
        Assert.Contains("(404)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_is_saved_when_a_turn_succeeds_and_dropped_when_it_throws()
    {
        await using var run = await StartAsync();
        var counter = ActorProxy.Create<ICounterActor>(new ActorId("transactional"), "CounterActor", run.ProxyOptions);

        await counter.IncrementAsync(5);
        var error = await Assert.ThrowsAsync<ActorInvocationException>(() => counter.IncrementThenFailAsync(100));
        Assert.Contains("failed after changing state", error.Message, StringComparison.Ordinal);

        Assert.Equal(5, await counter.GetCountAsync());
        Assert.Equal("5", await run.Sidecar.GetStringAsync("v1.0/actors/CounterActor/transactional/state/count"));
        using var events = await run.Sidecar.GetAsync("v1.0/actors/CounterActor/transactional/state/events");
        Assert.Equal(HttpStatusCode.NoContent, events.StatusCode);
    }

    [Fact]
    public async Task A_reminder_registered_by_an_actor_calls_it_back_with_its_state_until_it_unregisters()
    {
        await using var run = await StartAsync();
        var counter = ActorProxy.Create<ICounterActor>(new ActorId("reminded"), "CounterActor", run.ProxyOptions);

        await counter.RemindMeAsync("ping");
        await ActorHostRun.EventuallyAsync(async () => (await counter.SnapshotAsync(CancellationToken.None)).Events.Count >= 2);
        await Task.Delay(600);

        var events = (await counter.SnapshotAsync(CancellationToken.None)).Events;
        Assert.Equal(["reminder ping: hello ping every 200ms", "reminder ping: hello ping every 200ms"], events);
        using var reminder = JsonDocument.Parse(await run.Sidecar.GetStringAsync("v1.0/actors/CounterActor/reminded/reminders/ping"));
        Assert.Empty(reminder.RootElement.EnumerateObject());
    }

    [Fact]
    public async Task A_timer_calls_the_named_callback_with_its_state_until_it_is_unregistered()
    {
        await using var run = await StartAsync();
        var counter = ActorProxy.Create<ICounterActor>(new ActorId("ticking"), "CounterActor", run.ProxyOptions);

        await counter.StartTickingAsync();
        await ActorHostRun.EventuallyAsync(async () => (await counter.SnapshotAsync(CancellationToken.None)).Events.Count >= 3);
        await counter.StopTickingAsync();
        await Task.Delay(500); // a firing already in flight may still land
        var stopped = (await counter.SnapshotAsync(CancellationToken.None)).Events.Count;
        await Task.Delay(400);

        var events = (await counter.SnapshotAsync(CancellationToken.None)).Events;
        Assert.Equal(stopped, events.Count);
        Assert.All(events, e => Assert.Equal("timer tick", e));
    }

    [Fact]
    public async Task Dapr_config_reports_the_registered_types_and_settings()
    {
        await using var run = await StartAsync(options =>
        {
            options.ActorIdleTimeout = TimeSpan.FromMinutes(5);
            options.DrainOngoingCallTimeout = TimeSpan.FromSeconds(30);
            options.ReentrancyConfig = new ActorReentrancyConfig { Enabled = true, MaxStackDepth = 8 };
        });
        using var config = JsonDocument.Parse(await run.AppClient.GetStringAsync("dapr/config"));
        var root = config.RootElement;
        Assert.Equal(["CounterActor"], root.GetProperty("entities").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("0h5m0s0ms", root.GetProperty("actorIdleTimeout").GetString());
        Assert.Equal("0h0m30s0ms", root.GetProperty("drainOngoingCallTimeout").GetString());
        Assert.True(root.GetProperty("reentrancy").GetProperty("enabled").GetBoolean());
        Assert.Equal(8, root.GetProperty("reentrancy").GetProperty("maxStackDepth").GetInt32());

        using var unknownType = await run.AppClient.PutAsync("actors/Nope/x/method/m", null);
        Assert.Equal(HttpStatusCode.NotFound, unknownType.StatusCode);
    }

    [Fact]
    public async Task An_idle_actor_is_deactivated_and_a_later_call_activates_it_again_with_its_saved_state()
    {
        await using var run = await StartAsync(options =>
        {
            options.ActorIdleTimeout = TimeSpan.FromSeconds(1);
            options.ActorScanInterval = TimeSpan.FromMilliseconds(200);
        });
        var counter = ActorProxy.Create<ICounterActor>(new ActorId("idle"), "CounterActor", run.ProxyOptions);

        await counter.IncrementAsync(3);
        Assert.Contains("activate:idle", CounterActor.Lifecycle);
        await ActorHostRun.EventuallyAsync(() => CounterActor.Lifecycle.Contains("deactivate:idle"), 6);

        Assert.Equal(4, await counter.IncrementAsync(1));
        Assert.Equal(2, CounterActor.Lifecycle.Count(e => e == "activate:idle"));
    }
}

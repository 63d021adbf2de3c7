using AgentVerse.SdkApp;
using Dapr.Actors;
using Dapr.Actors.Client;

namespace AgentVerse.DaprSdk.Tests;

/// <summary>An actor hosted with Dapr.Actors.AspNetCore, called through ActorProxy with the SDK's default endpoint form.</summary>
[Collection(SdkAppTests.Name)]
public sealed class ActorTests(SdkAppRun run)
{
    private ICounterActor Proxy(string id) =>
        ActorProxy.Create<ICounterActor>(new ActorId(id), nameof(CounterActor), new ActorProxyOptions { HttpEndpoint = run.HttpEndpoint });

    [Fact]
    public async Task An_actor_keeps_its_state_between_calls()
    {
        var id = Guid.NewGuid().ToString("N");

        Assert.Equal(2, await Proxy(id).IncrementAsync(2));
        Assert.Equal(5, await Proxy(id).IncrementAsync(3));
        Assert.Equal(5, await Proxy(id).GetAsync());
        Assert.Equal(0, await Proxy(Guid.NewGuid().ToString("N")).GetAsync());
    }

    [Fact]
    public async Task A_reminder_fires_and_changes_the_actors_state()
    {
        var id = Guid.NewGuid().ToString("N");

        await Proxy(id).RemindAsync(10, dueMilliseconds: 200);

        await SdkAppRun.EventuallyAsync(async () => await Proxy(id).GetAsync() == 10, because: $"the reminder did not fire. Output:\n{run.Output}");
    }
}

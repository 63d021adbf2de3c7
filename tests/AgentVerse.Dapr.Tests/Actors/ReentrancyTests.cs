using AgentVerse.Dapr.Actors;

namespace AgentVerse.Dapr.Tests.Actors;

public interface IBouncerActor : IActor
{
    /// <summary>Asks the partner actor to call back into this one; returns what the callback saw.</summary>
    Task<string> BounceAsync(string partnerId);

    Task<string> CallBackAsync(string callerId);

    Task<string> WhoAmIAsync();
}

/// <summary>Two of these call each other: A.Bounce → B.CallBack → A.WhoAmI, which re-enters A while A is mid-turn.</summary>
public sealed class BouncerActor(ActorHost host) : Actor(host), IBouncerActor
{
    public Task<string> BounceAsync(string partnerId) =>
        Host.ProxyFactory.CreateActorProxy<IBouncerActor>(new ActorId(partnerId), ActorType).CallBackAsync(Id.Id);

    public async Task<string> CallBackAsync(string callerId) =>
        "partner saw " + await Host.ProxyFactory.CreateActorProxy<IBouncerActor>(new ActorId(callerId), ActorType).WhoAmIAsync();

    public Task<string> WhoAmIAsync() => Task.FromResult(Id.Id);
}

/// <summary>Reentrancy end to end: the library copies the chain's Dapr-Reentrancy-Id onto nested calls.</summary>
public sealed class ReentrancyTests
{
    [Fact]
    public async Task With_reentrancy_enabled_a_call_chain_reenters_an_actor_that_is_mid_turn()
    {
        await using var run = await ActorHostRun.StartAsync(options =>
        {
            options.RegisterActor<BouncerActor>();
            options.ReentrancyConfig = new ActorReentrancyConfig { Enabled = true };
        });
        var a = ActorProxy.Create<IBouncerActor>(new ActorId("a"), nameof(BouncerActor), run.ProxyOptions);

        Assert.Equal("partner saw a", await a.BounceAsync("b"));
    }

    [Fact]
    public async Task Without_reentrancy_the_chain_deadlocks_until_the_turn_wait_times_out()
    {
        await using var run = await ActorHostRun.StartAsync(options => options.RegisterActor<BouncerActor>());
        ((AgentVerse.Runtime.Sidecar.Sidecar)run.Runtime.Sidecars[0]).Actors!.TurnTimeout = TimeSpan.FromSeconds(1);
        var a = ActorProxy.Create<IBouncerActor>(new ActorId("a"), nameof(BouncerActor), run.ProxyOptions);

        var error = await Assert.ThrowsAsync<ActorInvocationException>(() => a.BounceAsync("b"));
        Assert.Equal("ERR_ACTOR_INVOKE_METHOD", error.ErrorCode);
    }
}

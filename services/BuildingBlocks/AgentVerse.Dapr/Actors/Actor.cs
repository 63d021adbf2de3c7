using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Dapr.Actors;

/// <summary>What an actor instance is given at activation: who it is and how to reach the sidecar.</summary>
public sealed class ActorHost
{
    internal ActorHost(string actorType, ActorId id, ActorSidecarClient sidecar, JsonSerializerOptions json, ILoggerFactory loggerFactory, ActorProxyFactory proxyFactory)
    {
        ActorTypeName = actorType;
        Id = id;
        Sidecar = sidecar;
        JsonSerializerOptions = json;
        LoggerFactory = loggerFactory;
        ProxyFactory = proxyFactory;
    }

    /// <summary>The Dapr actor type name.</summary>
    public string ActorTypeName { get; }

    /// <summary>The actor's id.</summary>
    public ActorId Id { get; }

    /// <summary>JSON settings for state, arguments and results.</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; }

    /// <summary>For the actor's loggers.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Creates proxies to other actors; calls made in a turn carry its reentrancy chain.</summary>
    public ActorProxyFactory ProxyFactory { get; }

    internal ActorSidecarClient Sidecar { get; }
}

/// <summary>
/// Base class of actor implementations. Dapr gives each actor id one turn at a time; state changes made
/// through <see cref="StateManager"/> are saved together when a turn succeeds and dropped when it throws.
/// </summary>
public abstract class Actor
{
    /// <summary>Creates the actor; implementations take an <see cref="ActorHost"/> (plus any services) in their constructor.</summary>
    protected Actor(ActorHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        Host = host;
        StateManager = new ActorStateManager(host);
        Logger = host.LoggerFactory.CreateLogger(GetType());
    }

    /// <summary>Identity, sidecar access and serializer settings.</summary>
    public ActorHost Host { get; }

    /// <summary>The actor's id.</summary>
    public ActorId Id => Host.Id;

    /// <summary>The Dapr actor type name.</summary>
    public string ActorType => Host.ActorTypeName;

    /// <summary>The actor's state, cached for the activation and saved at the end of each successful turn.</summary>
    public IActorStateManager StateManager { get; }

    /// <summary>A logger named after the actor class.</summary>
    protected ILogger Logger { get; }

    /// <summary>Called before the first call of an activation.</summary>
    protected internal virtual Task OnActivateAsync() => Task.CompletedTask;

    /// <summary>Called when the sidecar deactivates the actor (idle, or rebalanced).</summary>
    protected internal virtual Task OnDeactivateAsync() => Task.CompletedTask;

    /// <summary>Registers (or replaces) a reminder; it is persisted by the sidecar and survives restarts.</summary>
    /// <param name="reminderName">unique per actor</param>
    /// <param name="state">handed back to <see cref="IRemindable.ReceiveReminderAsync"/></param>
    /// <param name="dueTime">delay before the first firing</param>
    /// <param name="period">interval between firings; <see cref="Timeout.InfiniteTimeSpan"/> for one shot</param>
    /// <param name="ttl">when set, the reminder stops after this long</param>
    protected Task RegisterReminderAsync(string reminderName, byte[]? state, TimeSpan dueTime, TimeSpan period, TimeSpan? ttl = null) =>
        Host.Sidecar.PutJsonAsync(ActorType, Id.Id, "reminders/" + Uri.EscapeDataString(reminderName), new ReminderBody(
            state, ActorDurations.Format(dueTime), Period(period), ttl is { } t ? ActorDurations.Format(t) : null), CancellationToken.None);

    /// <summary>Removes a reminder.</summary>
    protected Task UnregisterReminderAsync(string reminderName) =>
        Host.Sidecar.DeleteAsync(ActorType, Id.Id, "reminders/" + Uri.EscapeDataString(reminderName), CancellationToken.None);

    /// <summary>
    /// Registers a timer that calls the actor method <paramref name="callback"/> (taking nothing or a <c>byte[]</c>)
    /// in the actor's turn. Timers live only as long as the activation.
    /// </summary>
    protected Task RegisterTimerAsync(string? timerName, string callback, byte[]? state, TimeSpan dueTime, TimeSpan period, TimeSpan? ttl = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(callback);
        var name = timerName ?? "timer-" + Guid.NewGuid().ToString("N");
        return Host.Sidecar.PutJsonAsync(ActorType, Id.Id, "timers/" + Uri.EscapeDataString(name), new TimerBody(
            callback, state, ActorDurations.Format(dueTime), Period(period), ttl is { } t ? ActorDurations.Format(t) : null), CancellationToken.None);
    }

    /// <summary>Removes a timer.</summary>
    protected Task UnregisterTimerAsync(string timerName) =>
        Host.Sidecar.DeleteAsync(ActorType, Id.Id, "timers/" + Uri.EscapeDataString(timerName), CancellationToken.None);

    private static string Period(TimeSpan period) => period == Timeout.InfiniteTimeSpan ? "" : ActorDurations.Format(period);

    private sealed record ReminderBody(byte[]? Data, string DueTime, string Period, string? Ttl);

    private sealed record TimerBody(string Callback, byte[]? Data, string DueTime, string Period, string? Ttl);
}

using AgentVerse.Dapr.Actors;
using System.Collections.Concurrent;
using System.Text;

namespace AgentVerse.Dapr.Tests.Actors;

public sealed record CounterSnapshot(string ActorId, int Count, IReadOnlyList<string> Events);

public interface ICounterActor : IActor
{
    Task<int> IncrementAsync(int by);

    Task<int> GetCountAsync();

    Task IncrementThenFailAsync(int by);

    Task<CounterSnapshot> SnapshotAsync(CancellationToken cancellationToken);

    Task RemindMeAsync(string reminderName);

    Task StartTickingAsync();

    Task StopTickingAsync();
}

/// <summary>The actor the library tests host: a counter with an event log kept in actor state.</summary>
public sealed class CounterActor(ActorHost host) : Actor(host), ICounterActor, IRemindable
{
    /// <summary>Activations and deactivations seen by every instance, as "activate:id" / "deactivate:id".</summary>
    public static ConcurrentQueue<string> Lifecycle { get; } = new();

    public async Task<int> IncrementAsync(int by)
    {
        var count = await StateManager.GetOrAddStateAsync("count", 0) + by;
        await StateManager.SetStateAsync("count", count);
        return count;
    }

    public Task<int> GetCountAsync() => StateManager.GetOrAddStateAsync("count", 0);

    public async Task IncrementThenFailAsync(int by)
    {
        await IncrementAsync(by);
        await LogAsync("this event must not be saved");
        throw new InvalidOperationException("failed after changing state");
    }

    public async Task<CounterSnapshot> SnapshotAsync(CancellationToken cancellationToken) =>
        new(Id.Id, await StateManager.GetOrAddStateAsync("count", 0, cancellationToken),
            await StateManager.GetOrAddStateAsync<List<string>>("events", [], cancellationToken));

    public Task RemindMeAsync(string reminderName) =>
        RegisterReminderAsync(reminderName, Encoding.UTF8.GetBytes("hello " + reminderName), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200));

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        var events = await LogAsync($"reminder {reminderName}: {Encoding.UTF8.GetString(state)} every {period.TotalMilliseconds}ms");
        if (events.Count(e => e.StartsWith("reminder", StringComparison.Ordinal)) >= 2)
        {
            await UnregisterReminderAsync(reminderName);
        }
    }

    public Task StartTickingAsync() => RegisterTimerAsync("ticker", nameof(OnTickAsync), Encoding.UTF8.GetBytes("tick"), TimeSpan.Zero, TimeSpan.FromMilliseconds(100));

    public Task StopTickingAsync() => UnregisterTimerAsync("ticker");

    private async Task OnTickAsync(byte[] state) => await LogAsync("timer " + Encoding.UTF8.GetString(state));

    private async Task<List<string>> LogAsync(string entry)
    {
        var events = await StateManager.GetOrAddStateAsync<List<string>>("events", []);
        events.Add(entry);
        await StateManager.SetStateAsync("events", events);
        return events;
    }

    protected internal override Task OnActivateAsync()
    {
        Lifecycle.Enqueue("activate:" + Id);
        return Task.CompletedTask;
    }

    protected internal override Task OnDeactivateAsync()
    {
        Lifecycle.Enqueue("deactivate:" + Id);
        return Task.CompletedTask;
    }
}

using Dapr.Actors;
using Dapr.Actors.Runtime;

namespace AgentVerse.SdkApp;

public interface ICounterActor : IActor
{
    Task<int> IncrementAsync(int by);

    Task<int> GetAsync();

    /// <summary>Registers a reminder that adds <paramref name="by"/> once, after <paramref name="dueMilliseconds"/>.</summary>
    Task RemindAsync(int by, int dueMilliseconds);
}

/// <summary>A counter kept in actor state, with a reminder that adds to it.</summary>
public sealed class CounterActor(ActorHost host) : Actor(host), ICounterActor, IRemindable
{
    private const string CountKey = "count";

    public async Task<int> IncrementAsync(int by)
    {
        var count = await StateManager.GetOrAddStateAsync(CountKey, 0) + by;
        await StateManager.SetStateAsync(CountKey, count);
        return count;
    }

    public Task<int> GetAsync() => StateManager.GetOrAddStateAsync(CountKey, 0);

    public Task RemindAsync(int by, int dueMilliseconds) =>
        RegisterReminderAsync("add", BitConverter.GetBytes(by), TimeSpan.FromMilliseconds(dueMilliseconds), TimeSpan.FromMilliseconds(-1));

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        await IncrementAsync(BitConverter.ToInt32(state));
        await UnregisterReminderAsync(reminderName);
    }
}

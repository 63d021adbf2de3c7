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

/// <summary>
/// A counter for callers that use Dapr's JavaScript SDK: its proxy sends a method's arguments as a JSON array, which
/// the .NET SDK's non-remoting dispatch hands to a method as one array parameter.
/// </summary>
public interface ITallyActor : IActor
{
    Task<int> IncrementAsync(int[] arguments);

    Task<int> GetCountAsync();
}

public sealed class TallyActor(ActorHost host) : Actor(host), ITallyActor
{
    private const string CountKey = "count";

    public async Task<int> IncrementAsync(int[] arguments)
    {
        var count = await StateManager.GetOrAddStateAsync(CountKey, 0) + arguments.Sum();
        await StateManager.SetStateAsync(CountKey, count);
        return count;
    }

    public Task<int> GetCountAsync() => StateManager.GetOrAddStateAsync(CountKey, 0);
}

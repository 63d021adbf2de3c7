namespace AgentVerse.Runtime.Workflow;

/// <summary>
/// The in-memory clock for durable timers. The timers themselves live in each instance's persisted
/// record; this only wakes the engine when the earliest one is due, and is refilled from the store
/// when the runtime starts.
/// </summary>
internal sealed class DurableTimers : IAsyncDisposable
{
    private readonly PriorityQueue<TimerEntry, DateTimeOffset> _queue = new();
    private readonly Lock _lock = new();
    private readonly Func<TimerEntry, Task> _onDue;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DurableTimers(Func<TimerEntry, Task> onDue, TimeProvider time)
    {
        _onDue = onDue;
        _time = time;
        _loop = RunAsync(_stopping.Token);
    }

    public void Arm(TimerEntry entry, DateTimeOffset dueAt)
    {
        lock (_lock)
        {
            _queue.Enqueue(entry, dueAt);
            _changed.TrySetResult();
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Task changed;
            TimeSpan wait;
            List<TimerEntry> due = [];
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                while (_queue.TryPeek(out var entry, out var at) && at <= now)
                {
                    _queue.Dequeue();
                    due.Add(entry);
                }
                wait = _queue.TryPeek(out _, out var next) ? next - now : Timeout.InfiniteTimeSpan;
                if (_changed.Task.IsCompleted)
                {
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                changed = _changed.Task;
            }
            foreach (var entry in due)
            {
                _ = _onDue(entry);
            }
            if (due.Count > 0)
            {
                continue;
            }
            // Task.Delay caps at ~49 days; a longer timer simply re-checks then. The delay is cancelled when
            // the queue changes first, so no timer outlives its wait.
            var capped = wait == Timeout.InfiniteTimeSpan || wait > TimeSpan.FromDays(30) ? TimeSpan.FromDays(30) : wait;
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var delay = Task.Delay(capped, _time, waiting.Token);
            await Task.WhenAny(changed, delay);
            await waiting.CancelAsync();
            await delay.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}

/// <param name="ExecutionId">the generation the timer belongs to; a recreated or continued instance ignores older timers</param>
/// <param name="TimerId">the CreateTimer action id, or <see cref="StartTimerId"/> for a scheduled start</param>
internal sealed record TimerEntry(string InstanceId, string? ExecutionId, int TimerId)
{
    public const int StartTimerId = int.MinValue;
}

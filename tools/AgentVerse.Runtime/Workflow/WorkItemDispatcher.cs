using System.Collections.Concurrent;
using System.Threading.Channels;
using Dapr.DurableTask.Protobuf;

namespace AgentVerse.Runtime.Workflow;

/// <summary>
/// Hands work items to the workers connected over GetWorkItems and matches their answers. An item given
/// to a stream stays owned by it until answered; when the stream drops, or the worker stays silent past
/// <see cref="ResponseTimeout"/>, the item goes back to the queue for the next worker (daprd redelivers
/// on disconnect; the timeout also covers a worker that hangs with its stream open).
/// </summary>
internal sealed class WorkItemDispatcher(TimeSpan responseTimeout)
{
    private readonly Channel<PendingWorkItem> _queue = Channel.CreateUnbounded<PendingWorkItem>();
    private readonly ConcurrentDictionary<string, PendingWorkItem> _pending = new(StringComparer.Ordinal);
    private int _connected;

    public TimeSpan ResponseTimeout { get; } = responseTimeout;

    /// <summary>Number of GetWorkItems streams currently open.</summary>
    public int ConnectedWorkers => Volatile.Read(ref _connected);

    // daprd matches workflow answers by instance id and activity answers by "instanceId/taskId".
    private static string OrchestratorKey(string instanceId) => "o|" + instanceId;

    private static string ActivityKey(string instanceId, int taskId) => $"a|{instanceId}/{taskId}";

    /// <summary>Queues one workflow turn and waits for the worker's answer, however many redeliveries it takes.</summary>
    public async Task<WorkflowResponse> RunOrchestratorAsync(WorkflowRequest request, CancellationToken cancellationToken)
    {
        var item = new PendingWorkItem(OrchestratorKey(request.InstanceId), new WorkItem { WorkflowRequest = request });
        Register(item);
        using var registration = cancellationToken.Register(() =>
        {
            _pending.TryRemove(new KeyValuePair<string, PendingWorkItem>(item.Key, item));
            item.Response.TrySetCanceled(cancellationToken);
        });
        return (WorkflowResponse)await item.Response.Task;
    }

    /// <summary>Queues an activity; its answer comes back through <see cref="TryComplete"/>.</summary>
    public void DispatchActivity(ActivityRequest request) =>
        Register(new PendingWorkItem(ActivityKey(request.WorkflowInstance.InstanceId, request.TaskId), new WorkItem { ActivityRequest = request }));

    private void Register(PendingWorkItem item)
    {
        // A newer item under the same key supersedes the old one (a new generation after ContinueAsNew, or recovery).
        if (_pending.TryGetValue(item.Key, out var previous))
        {
            previous.Response.TrySetCanceled();
        }
        _pending[item.Key] = item;
        _queue.Writer.TryWrite(item);
    }

    public CompletionResult CompleteOrchestrator(WorkflowResponse response) =>
        TryComplete(OrchestratorKey(response.InstanceId), response.CompletionToken, response);

    public CompletionResult CompleteActivity(ActivityResponse response) =>
        TryComplete(ActivityKey(response.InstanceId, response.TaskId), response.CompletionToken, response);

    private CompletionResult TryComplete(string key, string completionToken, object response)
    {
        if (!_pending.TryGetValue(key, out var item))
        {
            return CompletionResult.Unknown;
        }
        // An empty token is accepted (older SDKs and durabletask-js never echo it); a different one is a stale answer.
        if (completionToken.Length > 0 && !string.Equals(completionToken, item.Token, StringComparison.Ordinal))
        {
            return CompletionResult.Stale;
        }
        if (!_pending.TryRemove(new KeyValuePair<string, PendingWorkItem>(key, item)))
        {
            return CompletionResult.Unknown;
        }
        item.Release();
        item.Response.TrySetResult(response);
        return CompletionResult.Accepted;
    }

    private bool IsLive(PendingWorkItem item) =>
        _pending.TryGetValue(item.Key, out var current) && ReferenceEquals(current, item) && !item.Response.Task.IsCompleted;

    /// <summary>Feeds one worker stream until it is cancelled; whatever it still owes goes back to the queue.</summary>
    public async Task ServeAsync(Func<WorkItem, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var stream = new WorkerStream();
        Interlocked.Increment(ref _connected);
        try
        {
            while (true)
            {
                var item = await _queue.Reader.ReadAsync(cancellationToken);
                if (!IsLive(item))
                {
                    continue;
                }
                var token = Guid.NewGuid().ToString("N");
                item.Assign(stream, token, ResponseTimeout, () => Requeue(item, stream));
                if (!IsLive(item))
                {
                    // Answered or superseded between the check and the assignment.
                    item.Release();
                    continue;
                }
                var workItem = item.WorkItem.Clone();
                workItem.CompletionToken = token;
                try
                {
                    await send(workItem, cancellationToken);
                }
                catch
                {
                    Requeue(item, stream);
                    throw;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _connected);
            foreach (var item in stream.Owned.Keys)
            {
                Requeue(item, stream);
            }
        }
    }

    private void Requeue(PendingWorkItem item, WorkerStream from)
    {
        if (item.ReleaseIfOwnedBy(from) && IsLive(item))
        {
            _queue.Writer.TryWrite(item);
        }
    }

    internal enum CompletionResult
    {
        Accepted,
        Stale,
        Unknown,
    }

    private sealed class WorkerStream
    {
        public ConcurrentDictionary<PendingWorkItem, byte> Owned { get; } = new();
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The timeout source is disposed whenever the item is released.")]
    private sealed class PendingWorkItem(string key, WorkItem workItem)
    {
        private readonly Lock _lock = new();
        private WorkerStream? _owner;
        private CancellationTokenSource? _timeout;

        public string Key { get; } = key;
        public WorkItem WorkItem { get; } = workItem;
        public TaskCompletionSource<object> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string? Token { get; private set; }

        public WorkerStream? Owner
        {
            get
            {
                lock (_lock)
                {
                    return _owner;
                }
            }
        }

        public void Assign(WorkerStream stream, string token, TimeSpan timeout, Action onTimeout)
        {
            lock (_lock)
            {
                _owner = stream;
                Token = token;
                stream.Owned.TryAdd(this, 0);
                _timeout = new CancellationTokenSource(timeout);
                _timeout.Token.UnsafeRegister(_ => onTimeout(), null);
            }
        }

        /// <summary>Frees the item from its stream; false when <paramref name="stream"/> no longer owns it.</summary>
        public bool ReleaseIfOwnedBy(WorkerStream stream)
        {
            lock (_lock)
            {
                if (!ReferenceEquals(_owner, stream))
                {
                    return false;
                }
                ReleaseLocked();
                return true;
            }
        }

        public void Release()
        {
            lock (_lock)
            {
                ReleaseLocked();
            }
        }

        private void ReleaseLocked()
        {
            _owner?.Owned.TryRemove(this, out _);
            _owner = null;
            _timeout?.Dispose();
            _timeout = null;
        }
    }
}

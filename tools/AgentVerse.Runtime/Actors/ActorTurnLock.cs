namespace AgentVerse.Runtime.Actors;

/// <summary>
/// One actor's turn lock (daprd pkg/actors/targets/app/lock): one call at a time, waiters served in
/// arrival order. With reentrancy, a call carrying the holder's reentrancy id passes and deepens the
/// stack; deeper than the allowed depth fails with <see cref="ActorStackDepthException"/>.
/// </summary>
internal sealed class ActorTurnLock
{
    private readonly Queue<Waiter> _waiters = new();
    private readonly object _gate = new();
    private string? _holderReentrancyId;
    private int _depth;

    public bool IsHeld
    {
        get
        {
            lock (_gate)
            {
                return _depth > 0;
            }
        }
    }

    /// <summary>Takes the lock only when nobody holds it or waits for it (idle deactivation must not jump the queue).</summary>
    public bool TryAcquireIdle()
    {
        lock (_gate)
        {
            if (_depth > 0 || _waiters.Count > 0)
            {
                return false;
            }
            _depth = 1;
            _holderReentrancyId = null;
            return true;
        }
    }

    public async Task AcquireAsync(string? reentrancyId, int maxStackDepth, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            if (_depth == 0)
            {
                _depth = 1;
                _holderReentrancyId = reentrancyId;
                return;
            }
            if (reentrancyId is not null && string.Equals(reentrancyId, _holderReentrancyId, StringComparison.Ordinal))
            {
                if (_depth + 1 > maxStackDepth)
                {
                    throw new ActorStackDepthException();
                }
                _depth++;
                return;
            }
            waiter = new Waiter(reentrancyId);
            _waiters.Enqueue(waiter);
        }

        await using (cancellationToken.Register(() => waiter.Completion.TrySetCanceled(cancellationToken)))
        {
            try
            {
                await waiter.Completion.Task;
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    // Granted in the same instant the wait was cancelled: hand the turn on instead of leaking it.
                    if (waiter.Granted)
                    {
                        ReleaseLocked();
                    }
                    waiter.Abandoned = true;
                }
                throw;
            }
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            ReleaseLocked();
        }
    }

    private void ReleaseLocked()
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("actor turn lock released while not held");
        }
        if (--_depth > 0)
        {
            return;
        }
        _holderReentrancyId = null;
        while (_waiters.TryDequeue(out var next))
        {
            if (next.Abandoned || next.Completion.Task.IsCompleted)
            {
                continue;
            }
            _depth = 1;
            _holderReentrancyId = next.ReentrancyId;
            next.Granted = true;
            next.Completion.TrySetResult();
            return;
        }
    }

    private sealed class Waiter(string? reentrancyId)
    {
        public string? ReentrancyId { get; } = reentrancyId;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Granted { get; set; }
        public bool Abandoned { get; set; }
    }
}

/// <summary>A reentrant call chain went deeper than <c>reentrancy.maxStackDepth</c>.</summary>
internal sealed class ActorStackDepthException() : Exception("maximum stack depth exceeded");

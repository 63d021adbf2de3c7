using AgentVerse.Runtime.Components;

namespace AgentVerse.Runtime.State;

/// <summary>
/// <c>state.in-memory</c>: a process-local store, shared by every app that loads the same component.
/// ETags are random UUID strings (as components-contrib's in-memory store), TTLs expire on read and
/// are purged by a background sweep.
/// </summary>
public sealed class InMemoryStateStore : IStateStore
{
    // Matches the sweep period of components-contrib's in-memory store; reads check expiry anyway.
    private static readonly TimeSpan CleanupInterval = TimeSpan.FromSeconds(1);

    // One lock for everything: operations are tiny, and it makes transactions trivially atomic.
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Item> _items = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private ITimer? _cleanupTimer;

    private InMemoryStateStore(TimeProvider timeProvider) => _timeProvider = timeProvider;

    public StateStoreFeatures Features => StateStoreFeatures.ETag | StateStoreFeatures.Transactional | StateStoreFeatures.Ttl;

    /// <summary>Validates the component's metadata (throwing <see cref="ComponentLoadException"/> naming the field) and creates the store.</summary>
    public static IStateStore Create(ComponentDefinition definition, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(timeProvider);
        // The in-memory store takes no metadata of its own (actorStateStore/keyPrefix belong to the runtime).
        return new InMemoryStateStore(timeProvider);
    }

    public Task InitAsync(CancellationToken cancellationToken)
    {
        _cleanupTimer ??= _timeProvider.CreateTimer(_ => RemoveExpired(), null, CleanupInterval, CleanupInterval);
        return Task.CompletedTask;
    }

    public Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            var item = Find(key, _timeProvider.GetUtcNow());
            return Task.FromResult(item is null ? null : new StateEntry(item.Value, item.ETag, item.ExpiresAt));
        }
    }

    public Task SetAsync(StateSetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            CheckSet(request, Find(request.Key, now));
            _items[request.Key] = NewItem(request, now);
        }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(StateDeleteRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            CheckDelete(request, Find(request.Key, _timeProvider.GetUtcNow()));
            _items.Remove(request.Key);
        }
        return Task.CompletedTask;
    }

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            // Stage every change first so a failing operation leaves the store untouched;
            // later operations see earlier ones (a null stage = deleted in this transaction).
            var staged = new Dictionary<string, Item?>(StringComparer.Ordinal);
            foreach (var operation in operations)
            {
                var current = staged.TryGetValue(operation.Key, out var s) ? s : Find(operation.Key, now);
                switch (operation)
                {
                    case UpsertOperation upsert:
                        CheckSet(upsert.Request, current);
                        staged[operation.Key] = NewItem(upsert.Request, now);
                        break;
                    case DeleteOperation delete:
                        CheckDelete(delete.Request, current);
                        staged[operation.Key] = null;
                        break;
                    default:
                        throw new NotSupportedException($"unsupported state operation {operation.GetType().Name}");
                }
            }

            foreach (var (key, item) in staged)
            {
                if (item is null) _items.Remove(key);
                else _items[key] = item;
            }
        }
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _cleanupTimer?.Dispose();
        lock (_gate) _items.Clear();
        return ValueTask.CompletedTask;
    }

    private Item? Find(string key, DateTimeOffset now) =>
        _items.TryGetValue(key, out var item) && !item.IsExpired(now) ? item : null;

    private static Item NewItem(StateSetRequest request, DateTimeOffset now) =>
        // Copy the bytes: the caller may reuse its buffer after the call returns. A TTL of zero or less means
        // no expiry, as components-contrib treats ttlInSeconds <= 0.
        new(request.Value.ToArray(), Guid.NewGuid().ToString(), request.Ttl is { } ttl && ttl > TimeSpan.Zero ? now + ttl : null);

    private static void CheckSet(StateSetRequest request, Item? current)
    {
        if (!string.IsNullOrEmpty(request.ETag))
        {
            if (current is null || !string.Equals(current.ETag, request.ETag, StringComparison.Ordinal))
                throw new ETagMismatchException(request.Key);
        }
        else if (request.FirstWrite && current is not null)
        {
            throw new ETagMismatchException(request.Key);
        }
    }

    private static void CheckDelete(StateDeleteRequest request, Item? current)
    {
        if (!string.IsNullOrEmpty(request.ETag)
            && (current is null || !string.Equals(current.ETag, request.ETag, StringComparison.Ordinal)))
        {
            throw new ETagMismatchException(request.Key);
        }
    }

    private void RemoveExpired()
    {
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            List<string>? expired = null;
            foreach (var (key, item) in _items)
            {
                if (item.IsExpired(now)) (expired ??= []).Add(key);
            }
            expired?.ForEach(k => _items.Remove(k));
        }
    }

    private sealed record Item(byte[] Value, string ETag, DateTimeOffset? ExpiresAt)
    {
        public bool IsExpired(DateTimeOffset now) => ExpiresAt is { } at && at <= now;
    }
}

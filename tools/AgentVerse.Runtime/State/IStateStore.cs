namespace AgentVerse.Runtime.State;

/// <summary>
/// A state store component. Keys arrive already prefixed by the runtime (<c>appId||key</c>).
/// Semantics follow components-contrib: every stored item has an opaque ETag; a write or delete that
/// carries an ETag succeeds only if it matches; first-write concurrency without an ETag succeeds only
/// when the key does not exist yet (writes) or always (deletes).
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    StateStoreFeatures Features { get; }

    /// <summary>Create tables, open files, start TTL cleanup. Called once before use.</summary>
    Task InitAsync(CancellationToken cancellationToken);

    /// <summary>The item, or null when missing or expired.</summary>
    Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken);

    /// <exception cref="ETagMismatchException">the ETag does not match, or first-write found an existing item</exception>
    /// <exception cref="InvalidETagException">the ETag is not in this store's format</exception>
    Task SetAsync(StateSetRequest request, CancellationToken cancellationToken);

    /// <exception cref="ETagMismatchException">the ETag does not match (or the item is gone)</exception>
    /// <exception cref="InvalidETagException">the ETag is not in this store's format</exception>
    Task DeleteAsync(StateDeleteRequest request, CancellationToken cancellationToken);

    /// <summary>All operations commit together or none do; the first failure rolls back and is rethrown.</summary>
    Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);
}

[Flags]
public enum StateStoreFeatures
{
    None = 0,
    ETag = 1,
    Transactional = 2,
    Ttl = 4,
    QueryApi = 8,
    DeleteWithPrefix = 16,
}

/// <summary>A stored item. <paramref name="Value"/> holds the exact bytes that were saved.</summary>
public sealed record StateEntry(ReadOnlyMemory<byte> Value, string ETag, DateTimeOffset? ExpiresAt);

/// <param name="Key">full key, already prefixed</param>
/// <param name="Value">bytes to store (the runtime stores the JSON text of the item's value)</param>
/// <param name="ETag">expected ETag, or null/empty for none</param>
/// <param name="FirstWrite">concurrency = first-write</param>
/// <param name="Ttl">time to live; null = no expiry (also for <c>ttlInSeconds=-1</c>)</param>
public sealed record StateSetRequest(string Key, ReadOnlyMemory<byte> Value, string? ETag = null, bool FirstWrite = false, TimeSpan? Ttl = null);

public sealed record StateDeleteRequest(string Key, string? ETag = null, bool FirstWrite = false);

public abstract record StateOperation(string Key);
public sealed record UpsertOperation(StateSetRequest Request) : StateOperation(Request.Key);
public sealed record DeleteOperation(StateDeleteRequest Request) : StateOperation(Request.Key);

/// <summary>Optimistic-concurrency conflict (daprd answers 409 for save/delete, 500 inside a transaction).</summary>
public sealed class ETagMismatchException(string key) : Exception($"possible etag mismatch. error from state store: key '{key}'")
{
    public string Key { get; } = key;
}

/// <summary>An ETag the store cannot parse (daprd answers 400).</summary>
public sealed class InvalidETagException(string key) : Exception($"invalid etag value for key '{key}'")
{
    public string Key { get; } = key;
}

using System.Text.Json;

namespace AgentVerse.Dapr;

/// <summary>Consistency a state operation asks of the store.</summary>
public enum ConsistencyMode
{
    /// <summary>Reads may be stale; writes return before every replica has them.</summary>
    Eventual,

    /// <summary>Reads see the latest write; writes wait for a quorum.</summary>
    Strong,
}

/// <summary>How a write with an ETag is checked against the stored ETag.</summary>
public enum ConcurrencyMode
{
    /// <summary>The write fails unless its ETag matches the stored one (optimistic concurrency).</summary>
    FirstWrite,

    /// <summary>The write wins whatever the stored ETag.</summary>
    LastWrite,
}

/// <summary>Options for a state operation, sent as Dapr's <c>options</c> object.</summary>
public sealed class StateOptions
{
    /// <summary>Consistency asked of the store; null leaves the store's default.</summary>
    public ConsistencyMode? Consistency { get; init; }

    /// <summary>Concurrency mode; null leaves the store's default.</summary>
    public ConcurrencyMode? Concurrency { get; init; }

    internal static string ToWire(ConsistencyMode mode) => mode == ConsistencyMode.Strong ? "strong" : "eventual";

    internal static string ToWire(ConcurrencyMode mode) => mode == ConcurrencyMode.FirstWrite ? "first-write" : "last-write";
}

/// <summary>The operation of one <see cref="StateTransactionRequest"/>.</summary>
public enum StateOperationType
{
    /// <summary>Insert or replace the key.</summary>
    Upsert,

    /// <summary>Delete the key.</summary>
    Delete,
}

/// <summary>One operation of a state transaction (<see cref="DaprClient.ExecuteStateTransactionAsync"/>).</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value as JSON (for <see cref="StateOperationType.Upsert"/>); null for deletes.</param>
/// <param name="OperationType">Upsert or delete.</param>
/// <param name="ETag">ETag the stored item must have; null for none.</param>
/// <param name="Metadata">Per-operation metadata, e.g. <c>ttlInSeconds</c>.</param>
/// <param name="Options">Concurrency and consistency for this operation.</param>
public sealed record StateTransactionRequest(
    string Key,
    JsonElement? Value,
    StateOperationType OperationType,
    string? ETag = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    StateOptions? Options = null)
{
    /// <summary>An upsert of <paramref name="value"/>, serialized with web defaults.</summary>
    public static StateTransactionRequest Upsert<TValue>(string key, TValue value, string? etag = null, IReadOnlyDictionary<string, string>? metadata = null, StateOptions? options = null)
        => new(key, JsonSerializer.SerializeToElement(value, DaprClient.DefaultJsonOptions), StateOperationType.Upsert, etag, metadata, options);

    /// <summary>A delete of <paramref name="key"/>.</summary>
    public static StateTransactionRequest Delete(string key, string? etag = null, IReadOnlyDictionary<string, string>? metadata = null, StateOptions? options = null)
        => new(key, null, StateOperationType.Delete, etag, metadata, options);
}

/// <summary>One item of a bulk state read: the raw JSON value as text.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The stored JSON as text; empty when the key was not found.</param>
/// <param name="ETag">The item's ETag; empty when not found.</param>
/// <param name="Error">The store's error for this key, if any.</param>
public sealed record BulkStateItem(string Key, string Value, string ETag, string? Error = null);

/// <summary>One item of a typed bulk state read.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The deserialized value; default when the key was not found.</param>
/// <param name="ETag">The item's ETag; empty when not found.</param>
/// <param name="Error">The store's error for this key, if any.</param>
public sealed record BulkStateItem<TValue>(string Key, TValue? Value, string ETag, string? Error = null);

/// <summary>One item of <see cref="DaprClient.SaveBulkStateAsync{TValue}"/>.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value.</param>
/// <param name="ETag">ETag the stored item must have; null for none.</param>
/// <param name="StateOptions">Concurrency and consistency.</param>
/// <param name="Metadata">Per-item metadata, e.g. <c>ttlInSeconds</c>.</param>
public sealed record SaveStateItem<TValue>(
    string Key,
    TValue Value,
    string? ETag = null,
    StateOptions? StateOptions = null,
    IReadOnlyDictionary<string, string>? Metadata = null);

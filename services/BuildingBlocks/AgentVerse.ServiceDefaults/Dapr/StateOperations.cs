using System.Text.Json;
using Dapr.Client;

namespace AgentVerse.ServiceDefaults.Dapr;

/// <summary>
/// Building blocks for the SDK's state API where it leaves serialization or concurrency to the caller: transaction
/// operations carry JSON bytes, and an ETag-guarded write is first-write only when asked (the SDK's default lets a
/// write with an empty ETag overwrite an item someone else just created).
/// </summary>
public static class StateOperations
{
    /// <summary>DaprClient's own defaults, so transaction values read back like <c>SaveStateAsync</c>'s.</summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Optimistic concurrency: with an ETag the write needs the stored one to match; with an empty or no ETag it needs
    /// the key not to exist yet.
    /// </summary>
    public static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite };

    /// <summary>An upsert of <paramref name="value"/> as JSON; an empty <paramref name="etag"/> means none.</summary>
    public static StateTransactionRequest Upsert<TValue>(string key, TValue value, string? etag = null,
        IReadOnlyDictionary<string, string>? metadata = null, StateOptions? options = null) =>
        new(key, JsonSerializer.SerializeToUtf8Bytes(value, Json), StateOperationType.Upsert, string.IsNullOrEmpty(etag) ? null : etag, metadata, options);

    /// <summary>A delete of <paramref name="key"/>; an empty <paramref name="etag"/> means none.</summary>
    public static StateTransactionRequest Delete(string key, string? etag = null) =>
        new(key, null, StateOperationType.Delete, string.IsNullOrEmpty(etag) ? null : etag);

    /// <summary>
    /// The items stored under <paramref name="keys"/> (a missing key's value is default), or none for no keys, which
    /// the SDK refuses with an exception.
    /// </summary>
    public static async Task<IReadOnlyList<BulkStateItem<TValue>>> GetBulkStateOrEmptyAsync<TValue>(this DaprClient dapr, string store,
        IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        keys.Count == 0 ? [] : await dapr.GetBulkStateAsync<TValue>(store, keys, parallelism: null, cancellationToken: cancellationToken);

    /// <summary>
    /// Saves <paramref name="value"/> over the version read with <paramref name="etag"/> (empty: only if the key is
    /// still absent); false when someone else wrote first.
    /// </summary>
    public static Task<bool> TrySaveFirstWriteAsync<TValue>(this DaprClient dapr, string store, string key, TValue value, string etag,
        IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        dapr.TrySaveStateAsync(store, key, value, etag, FirstWrite, metadata, cancellationToken);
}

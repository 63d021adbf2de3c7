using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentVerse.Dapr;

public sealed partial class DaprClient
{
    /// <summary>Reads a value (<c>GET /v1.0/state/{store}/{key}</c>); default when the key does not exist.</summary>
    public async Task<TValue?> GetStateAsync<TValue>(
        string storeName,
        string key,
        ConsistencyMode? consistencyMode = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
        => (await GetStateAndETagAsync<TValue>(storeName, key, consistencyMode, metadata, cancellationToken)).Value;

    /// <summary>
    /// Reads a value and its ETag, for a later <see cref="TrySaveStateAsync{TValue}"/> or <see cref="TryDeleteStateAsync"/>.
    /// A missing key gives (default, empty ETag).
    /// </summary>
    public async Task<(TValue? Value, string ETag)> GetStateAndETagAsync<TValue>(
        string storeName,
        string key,
        ConsistencyMode? consistencyMode = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        ArgumentException.ThrowIfNullOrEmpty(key);
        using var request = CreateApiRequest(HttpMethod.Get, StatePath(storeName, key), metadata, ConsistencyQuery(consistencyMode));
        using var response = await SendApiAsync(request, cancellationToken);
        // 204 (and an empty 200 from some stores) means the key does not exist.
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent || body.Length == 0)
        {
            return (default, "");
        }

        // daprd sends ETags unquoted (ETag: 1), which HttpResponseHeaders.ETag would reject.
        var etag = response.Headers.TryGetValues("ETag", out var values) ? values.FirstOrDefault() ?? "" : "";
        return (JsonSerializer.Deserialize<TValue>(body, JsonSerializerOptions), etag);
    }

    /// <summary>
    /// Reads several keys at once (<c>POST /v1.0/state/{store}/bulk</c>), returning each stored JSON as text.
    /// Items keep the order of <paramref name="keys"/>; missing keys have an empty value.
    /// </summary>
    public async Task<IReadOnlyList<BulkStateItem>> GetBulkStateAsync(
        string storeName,
        IReadOnlyList<string> keys,
        int? parallelism = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        var items = await GetBulkStateCoreAsync(storeName, keys, parallelism, metadata, cancellationToken);
        return [.. items.Select(i => new BulkStateItem(i.Key, i.Data is { } data ? data.GetRawText() : "", i.Etag ?? "", i.Error))];
    }

    /// <summary>Reads several keys at once, deserializing each value; missing keys have a default value.</summary>
    public async Task<IReadOnlyList<BulkStateItem<TValue>>> GetBulkStateAsync<TValue>(
        string storeName,
        IReadOnlyList<string> keys,
        int? parallelism = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        var items = await GetBulkStateCoreAsync(storeName, keys, parallelism, metadata, cancellationToken);
        return [.. items.Select(i => new BulkStateItem<TValue>(
            i.Key,
            i.Data is { } data ? data.Deserialize<TValue>(JsonSerializerOptions) : default,
            i.Etag ?? "",
            i.Error))];
    }

    /// <summary>
    /// Saves a value (<c>POST /v1.0/state/{store}</c>), last write wins. <paramref name="metadata"/> goes to the
    /// store with the item, e.g. <c>ttlInSeconds</c>.
    /// </summary>
    public Task SaveStateAsync<TValue>(
        string storeName,
        string key,
        TValue value,
        StateOptions? stateOptions = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return SaveItemsAsync(storeName, [ToWire(key, value, null, stateOptions, metadata)], cancellationToken);
    }

    /// <summary>
    /// Saves a value only if the stored ETag is still <paramref name="etag"/> (optimistic concurrency).
    /// Returns false when the store rejects the ETag (409); other failures throw <see cref="DaprApiException"/>.
    /// </summary>
    public async Task<bool> TrySaveStateAsync<TValue>(
        string storeName,
        string key,
        TValue value,
        string etag,
        StateOptions? stateOptions = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        // The official SDK treats a null ETag as a programming error too: it would silently turn this into a blind write.
        ArgumentNullException.ThrowIfNull(etag);
        try
        {
            await SaveItemsAsync(storeName, [ToWire(key, value, etag, stateOptions ?? FirstWrite, metadata)], cancellationToken);
            return true;
        }
        catch (DaprApiException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    /// <summary>Saves several items in one call (not atomically: use <see cref="ExecuteStateTransactionAsync"/> for that).</summary>
    public Task SaveBulkStateAsync<TValue>(string storeName, IReadOnlyList<SaveStateItem<TValue>> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        return SaveItemsAsync(storeName, [.. items.Select(i => ToWire(i.Key, i.Value, i.ETag, i.StateOptions, i.Metadata))], cancellationToken);
    }

    /// <summary>Deletes a key (<c>DELETE /v1.0/state/{store}/{key}</c>) whatever its ETag; deleting a missing key succeeds.</summary>
    public async Task DeleteStateAsync(
        string storeName,
        string key,
        StateOptions? stateOptions = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        using var request = CreateDeleteRequest(storeName, key, null, stateOptions, metadata);
        using var response = await SendApiAsync(request, cancellationToken);
    }

    /// <summary>
    /// Deletes a key only if its ETag is still <paramref name="etag"/> (sent as <c>If-Match</c>).
    /// Returns false when the store rejects the ETag (409).
    /// </summary>
    public async Task<bool> TryDeleteStateAsync(
        string storeName,
        string key,
        string etag,
        StateOptions? stateOptions = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(etag);
        using var request = CreateDeleteRequest(storeName, key, etag, stateOptions ?? FirstWrite, metadata);
        try
        {
            using var response = await SendApiAsync(request, cancellationToken);
            return true;
        }
        catch (DaprApiException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    /// <summary>
    /// Applies upserts and deletes atomically (<c>POST /v1.0/state/{store}/transaction</c>). Any failure, a stale ETag
    /// included, fails the whole transaction with a <see cref="DaprApiException"/> (500 <c>ERR_STATE_TRANSACTION</c>).
    /// </summary>
    public async Task ExecuteStateTransactionAsync(
        string storeName,
        IEnumerable<StateTransactionRequest> operations,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        ArgumentNullException.ThrowIfNull(operations);
        var body = new TransactionWire(
            [.. operations.Select(o => new TransactionOperationWire(
                o.OperationType == StateOperationType.Upsert ? "upsert" : "delete",
                new StateItemWire(o.Key, o.Value, o.ETag, o.Metadata, OptionsWire.From(o.Options))))],
            metadata);
        using var request = CreateApiRequest(HttpMethod.Post, $"v1.0/state/{Uri.EscapeDataString(storeName)}/transaction");
        request.Content = CreateJsonContent(body, WireJsonOptions);
        using var response = await SendApiAsync(request, cancellationToken);
    }

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite };

    private static string StatePath(string storeName, string key) => $"v1.0/state/{Uri.EscapeDataString(storeName)}/{Uri.EscapeDataString(key)}";

    private static KeyValuePair<string, string>[] ConsistencyQuery(ConsistencyMode? mode)
        => mode is { } m ? [new("consistency", StateOptions.ToWire(m))] : [];

    private StateItemWire ToWire<TValue>(string key, TValue value, string? etag, StateOptions? options, IReadOnlyDictionary<string, string>? metadata)
        => new(key, JsonSerializer.SerializeToElement(value, JsonSerializerOptions), etag, metadata, OptionsWire.From(options));

    private async Task SaveItemsAsync(string storeName, IReadOnlyList<StateItemWire> items, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        using var request = CreateApiRequest(HttpMethod.Post, $"v1.0/state/{Uri.EscapeDataString(storeName)}");
        request.Content = CreateJsonContent(items, WireJsonOptions);
        using var response = await SendApiAsync(request, cancellationToken);
    }

    private HttpRequestMessage CreateDeleteRequest(string storeName, string key, string? etag, StateOptions? options, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var query = new List<KeyValuePair<string, string>>();
        if (options?.Concurrency is { } concurrency)
        {
            query.Add(new("concurrency", StateOptions.ToWire(concurrency)));
        }

        if (options?.Consistency is { } consistency)
        {
            query.Add(new("consistency", StateOptions.ToWire(consistency)));
        }

        var request = CreateApiRequest(HttpMethod.Delete, StatePath(storeName, key), metadata, query);
        if (etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", etag);
        }

        return request;
    }

    private async Task<IReadOnlyList<BulkStateItemWire>> GetBulkStateCoreAsync(
        string storeName, IReadOnlyList<string> keys, int? parallelism, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        ArgumentNullException.ThrowIfNull(keys);
        using var request = CreateApiRequest(HttpMethod.Post, $"v1.0/state/{Uri.EscapeDataString(storeName)}/bulk");
        request.Content = CreateJsonContent(new BulkGetWire(keys, parallelism, metadata), WireJsonOptions);
        using var response = await SendApiAsync(request, cancellationToken);
        return await response.Content.ReadFromJsonAsync<List<BulkStateItemWire>>(WireJsonOptions, cancellationToken) ?? [];
    }

    private sealed record StateItemWire(string Key, JsonElement? Value, string? Etag, IReadOnlyDictionary<string, string>? Metadata, OptionsWire? Options);

    private sealed record OptionsWire(string? Concurrency, string? Consistency)
    {
        public static OptionsWire? From(StateOptions? options) => options is null
            ? null
            : new(options.Concurrency is { } c ? StateOptions.ToWire(c) : null, options.Consistency is { } s ? StateOptions.ToWire(s) : null);
    }

    private sealed record TransactionOperationWire(string Operation, StateItemWire Request);

    private sealed record TransactionWire(IReadOnlyList<TransactionOperationWire> Operations, IReadOnlyDictionary<string, string>? Metadata);

    private sealed record BulkGetWire(IReadOnlyList<string> Keys, int? Parallelism, IReadOnlyDictionary<string, string>? Metadata);

    // daprd names the value "data" here (the docs say "value"; the runtime code wins).
    private sealed record BulkStateItemWire(string Key, JsonElement? Data, string? Etag, IReadOnlyDictionary<string, string>? Metadata, string? Error);
}

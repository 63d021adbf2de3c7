using System.Globalization;
using System.Text.Json;
using AgentVerse.Runtime.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>The state API (daprd pkg/api/http/http.go): get, bulk get, save, delete, transaction.</summary>
internal static class StateApi
{
    // Bounds a single request; daprd leaves this to the store, but an unbounded list is a memory hazard.
    private const int MaxOperations = 10_000;

    public static void MapStateApi(this IEndpointRouteBuilder app, Sidecar sidecar)
    {
        app.MapGet("/v1.0/state/{storeName}/{key}", context => GetAsync(context, sidecar));
        app.MapMethods("/v1.0/state/{storeName}/bulk", [HttpMethods.Post, HttpMethods.Put], context => BulkGetAsync(context, sidecar));
        app.MapMethods("/v1.0/state/{storeName}/transaction", [HttpMethods.Post, HttpMethods.Put], context => TransactionAsync(context, sidecar));
        app.MapMethods("/v1.0/state/{storeName}", [HttpMethods.Post, HttpMethods.Put], context => SaveAsync(context, sidecar));
        app.MapDelete("/v1.0/state/{storeName}/{key}", context => DeleteAsync(context, sidecar));
    }

    private static bool TryGetStore(HttpContext context, Sidecar sidecar, out StateStoreBinding binding, out DaprError? error)
    {
        error = ResolveStore(sidecar, (string)context.Request.RouteValues["storeName"]!, out binding);
        return error is null;
    }

    /// <summary>The app's state store by name, or daprd's error when there is none of that name (HTTP and gRPC APIs).</summary>
    internal static DaprError? ResolveStore(Sidecar sidecar, string name, out StateStoreBinding binding)
    {
        binding = null!;
        if (sidecar.StateStores.Count == 0)
        {
            return DaprError.StateStoreNotConfigured();
        }
        return sidecar.StateStores.TryGetValue(name, out binding!) ? null : DaprError.StateStoreNotFound(name);
    }

    internal static DaprError? ValidateKey(string? key) =>
        string.IsNullOrEmpty(key) ? DaprError.Malformed("\"key\" is a required field")
        : key.Contains("||", StringComparison.Ordinal) ? DaprError.Malformed($"input key/keyPrefix '{key}' can't contain '||'")
        : null;

    private static async Task GetAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryGetStore(context, sidecar, out var binding, out var error))
        {
            await error!.WriteAsync(context.Response);
            return;
        }
        var key = (string)context.Request.RouteValues["key"]!;
        if (ValidateKey(key) is { } bad)
        {
            await bad.WriteAsync(context.Response);
            return;
        }
        StateEntry? entry;
        try
        {
            entry = await binding.Store.GetAsync(binding.StoredKey(key), context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await GetFailed(binding, key, e).WriteAsync(context.Response);
            return;
        }
        if (entry is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.Headers.ETag = entry.ETag;
        if (entry.ExpiresAt is { } expires)
        {
            context.Response.Headers["metadata.ttlExpireTime"] = FormatTime(expires);
        }
        await context.Response.Body.WriteAsync(entry.Value, context.RequestAborted);
    }

    private static async Task BulkGetAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryGetStore(context, sidecar, out var binding, out var error))
        {
            await error!.WriteAsync(context.Response);
            return;
        }
        List<string> keys = [];
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body.RootElement.ValueKind != JsonValueKind.Object
                || !body.RootElement.TryGetProperty("keys", out var keysElement) || keysElement.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("expected an object with a \"keys\" array");
            }
            foreach (var k in keysElement.EnumerateArray())
            {
                keys.Add(k.GetString() ?? "");
            }
        }
        catch (JsonException e)
        {
            await DaprError.Malformed($"failed deserializing HTTP body: {e.Message}").WriteAsync(context.Response);
            return;
        }
        if (keys.Count > MaxOperations)
        {
            await DaprError.Malformed($"too many keys: {keys.Count} (max {MaxOperations})").WriteAsync(context.Response);
            return;
        }

        // Each key answers on its own; a failing key carries "error" instead of failing the whole call (daprd).
        var results = new (StateEntry? Entry, string? Error)[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            if (ValidateKey(keys[i]) is { } bad)
            {
                results[i] = (null, bad.Message);
                continue;
            }
            try
            {
                results[i] = (await binding.Store.GetAsync(binding.StoredKey(keys[i]), context.RequestAborted), null);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                results[i] = (null, e.Message);
            }
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartArray();
        for (var i = 0; i < keys.Count; i++)
        {
            json.WriteStartObject();
            json.WriteString("key", keys[i]);
            if (results[i].Entry is { } entry)
            {
                json.WritePropertyName("data");
                WriteStoredValue(json, entry.Value);
                json.WriteString("etag", entry.ETag);
                if (entry.ExpiresAt is { } expires)
                {
                    json.WriteStartObject("metadata");
                    json.WriteString("ttlExpireTime", FormatTime(expires));
                    json.WriteEndObject();
                }
            }
            if (results[i].Error is { } message)
            {
                json.WriteString("error", message);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        await json.FlushAsync(context.RequestAborted);
    }

    private static async Task SaveAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryGetStore(context, sidecar, out var binding, out var error))
        {
            await error!.WriteAsync(context.Response);
            return;
        }
        var queryMetadata = RequestMetadata.FromQuery(context.Request);
        List<StateSetRequest> requests;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("expected a JSON array of state items");
            }
            if (body.RootElement.GetArrayLength() > MaxOperations)
            {
                throw new JsonException($"too many items (max {MaxOperations})");
            }
            requests = [.. body.RootElement.EnumerateArray().Select(item => ParseSetRequest(item, binding, queryMetadata, baseMetadata: null))];
        }
        catch (JsonException e)
        {
            await DaprError.Malformed($"failed deserializing HTTP body: {e.Message}").WriteAsync(context.Response);
            return;
        }
        catch (StateRequestException e)
        {
            await e.Error.WriteAsync(context.Response);
            return;
        }

        foreach (var request in requests)
        {
            try
            {
                await binding.Store.SetAsync(request, context.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await SaveFailed(binding, e).WriteAsync(context.Response);
                return;
            }
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task DeleteAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryGetStore(context, sidecar, out var binding, out var error))
        {
            await error!.WriteAsync(context.Response);
            return;
        }
        var key = (string)context.Request.RouteValues["key"]!;
        if (ValidateKey(key) is { } bad)
        {
            await bad.WriteAsync(context.Response);
            return;
        }
        var etag = context.Request.Headers.IfMatch.ToString();
        var firstWrite = context.Request.Query["concurrency"] == "first-write";
        try
        {
            await binding.Store.DeleteAsync(new StateDeleteRequest(binding.StoredKey(key), etag.Length == 0 ? null : etag, firstWrite), context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await DeleteFailed(key, e).WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task TransactionAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryGetStore(context, sidecar, out var binding, out var error))
        {
            await error!.WriteAsync(context.Response);
            return;
        }
        if (TransactionsUnsupported(binding) is { } unsupported)
        {
            await unsupported.WriteAsync(context.Response);
            return;
        }
        var queryMetadata = RequestMetadata.FromQuery(context.Request);
        List<StateOperation> operations = [];
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("operations", out var ops) || ops.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("expected an object with an \"operations\" array");
            }
            if (TooManyOperations(ops.GetArrayLength()) is { } tooMany)
            {
                await tooMany.WriteAsync(context.Response);
                return;
            }
            var baseMetadata = root.TryGetProperty("metadata", out var m) ? ReadStringMap(m) : null;
            foreach (var op in ops.EnumerateArray())
            {
                var kind = op.TryGetProperty("operation", out var o) ? o.GetString() : null;
                if (!op.TryGetProperty("request", out var request) || request.ValueKind != JsonValueKind.Object)
                {
                    throw new JsonException("each operation needs a \"request\" object");
                }
                switch (kind)
                {
                    case "upsert":
                        operations.Add(new UpsertOperation(ParseSetRequest(request, binding, queryMetadata, baseMetadata)));
                        break;
                    case "delete":
                        var set = ParseSetRequest(request, binding, queryMetadata, baseMetadata);
                        operations.Add(new DeleteOperation(new StateDeleteRequest(set.Key, set.ETag, set.FirstWrite)));
                        break;
                    default:
                        await UnsupportedOperation(kind).WriteAsync(context.Response);
                        return;
                }
            }
        }
        catch (JsonException e)
        {
            await DaprError.Malformed($"failed deserializing HTTP body: {e.Message}").WriteAsync(context.Response);
            return;
        }
        catch (StateRequestException e)
        {
            await e.Error.WriteAsync(context.Response);
            return;
        }

        try
        {
            await binding.Store.ExecuteTransactionAsync(operations, context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await TransactionFailed(e).WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>Reads one state item: key, value (stored as its JSON text), etag, options, metadata (query metadata wins).</summary>
    private static StateSetRequest ParseSetRequest(JsonElement item, StateStoreBinding binding, Dictionary<string, string> queryMetadata, Dictionary<string, string>? baseMetadata)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("each state item must be a JSON object");
        }
        var key = item.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
        if (ValidateKey(key) is { } bad)
        {
            throw new StateRequestException(bad);
        }
        var value = item.TryGetProperty("value", out var v) ? JsonSerializer.SerializeToUtf8Bytes(v) : "null"u8.ToArray();
        var etag = item.TryGetProperty("etag", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        var firstWrite = item.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("concurrency", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() == "first-write";

        var metadata = new Dictionary<string, string>(baseMetadata ?? [], StringComparer.Ordinal);
        if (item.TryGetProperty("metadata", out var m))
        {
            foreach (var (mk, mv) in ReadStringMap(m))
            {
                metadata[mk] = mv;
            }
        }
        foreach (var (qk, qv) in queryMetadata)
        {
            metadata[qk] = qv;
        }
        return new StateSetRequest(binding.StoredKey(key!), value, string.IsNullOrEmpty(etag) ? null : etag, firstWrite, ParseTtl(metadata, binding.Name));
    }

    internal static DaprError GetFailed(StateStoreBinding binding, string key, Exception e) =>
        new(500, "ERR_STATE_GET", $"fail to get {key} from state store {binding.Name}: {e.Message}");

    internal static DaprError SaveFailed(StateStoreBinding binding, Exception e) =>
        DaprError.StateFailure(e, "ERR_STATE_SAVE", $"failed saving state in state store {binding.Name}: {e.Message}");

    internal static DaprError DeleteFailed(string key, Exception e) =>
        DaprError.StateFailure(e, "ERR_STATE_DELETE", $"failed deleting state with key {key}: {e.Message}");

    // Inside a transaction daprd reports every store failure alike, an ETag conflict included (gRPC INTERNAL).
    internal static DaprError TransactionFailed(Exception e) =>
        new(500, "ERR_STATE_TRANSACTION", $"error while executing state transaction: {e.Message}");

    internal static DaprError? TransactionsUnsupported(StateStoreBinding binding) =>
        binding.Store.Features.HasFlag(StateStoreFeatures.Transactional) ? null
        : new DaprError(500, "ERR_STATE_STORE_NOT_SUPPORTED", $"state store {binding.Name} doesn't support transaction") { GrpcStatus = Grpc.Core.StatusCode.Unimplemented };

    internal static DaprError? TooManyOperations(int count) =>
        count <= MaxOperations ? null
        : new DaprError(400, "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS",
            $"the transaction contains {count} operations, which is more than what the state store supports: {MaxOperations}");

    internal static DaprError UnsupportedOperation(string? kind) =>
        new(400, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {kind} not supported") { GrpcStatus = Grpc.Core.StatusCode.Unimplemented };

    // components-contrib stateutils.ParseTTL: integer seconds; -1 (or any negative) = never expire.
    internal static TimeSpan? ParseTtl(IReadOnlyDictionary<string, string> metadata, string storeName)
    {
        if (!metadata.TryGetValue("ttlInSeconds", out var raw))
        {
            return null;
        }
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new StateRequestException(new DaprError(400, "ERR_STATE_SAVE",
                $"failed saving state in state store {storeName}: incorrect value for metadata 'ttlInSeconds': {raw}"));
        }
        return seconds < 0 ? null : TimeSpan.FromSeconds(seconds);
    }

    private static Dictionary<string, string> ReadStringMap(JsonElement element)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (element.ValueKind != JsonValueKind.Object)
        {
            return map;
        }
        foreach (var property in element.EnumerateObject())
        {
            map[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
        }
        return map;
    }

    /// <summary>Writes stored bytes as a JSON value; bytes that are not JSON go out as a base64 string, as daprd does.</summary>
    internal static void WriteStoredValue(Utf8JsonWriter json, ReadOnlyMemory<byte> value)
    {
        var reader = new Utf8JsonReader(value.Span);
        if (JsonDocument.TryParseValue(ref reader, out var document))
        {
            using (document)
            {
                document.RootElement.WriteTo(json);
            }
            return;
        }
        json.WriteBase64StringValue(value.Span);
    }

    internal static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal sealed class StateRequestException(DaprError error) : Exception(error.Message)
    {
        public DaprError Error { get; } = error;
    }
}

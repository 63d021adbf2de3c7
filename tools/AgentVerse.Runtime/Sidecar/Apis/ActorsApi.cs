using System.Text;
using System.Text.Json;
using AgentVerse.Runtime.Actors;
using AgentVerse.Runtime.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>
/// The actors client API (daprd pkg/api/http/actors.go): invoke, state, reminders, timers. Served by
/// every sidecar; calls route through the run's placement to the sidecar whose app hosts the actor.
/// </summary>
internal static class ActorsApi
{
    private const string Route = "/v1.0/actors/{actorType}/{actorId}";

    // Hop-by-hop headers and the ones daprd never forwards to the app.
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
        "Content-Length", "Content-Type", "dapr-api-token", "Expect",
    };

    public static void MapActorsApi(this IEndpointRouteBuilder app, Sidecar sidecar)
    {
        app.MapMethods(Route + "/method/{**method}", [HttpMethods.Get, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch],
            context => InvokeAsync(context, sidecar));
        app.MapGet(Route + "/state/{key}", context => GetStateAsync(context, sidecar));
        app.MapMethods(Route + "/state", [HttpMethods.Post, HttpMethods.Put], context => StateTransactionAsync(context, sidecar));
        app.MapMethods(Route + "/reminders/{name}", [HttpMethods.Post, HttpMethods.Put], context => CreateReminderAsync(context, sidecar));
        app.MapGet(Route + "/reminders/{name}", context => GetReminderAsync(context, sidecar));
        app.MapDelete(Route + "/reminders/{name}", context => DeleteReminderAsync(context, sidecar));
        app.MapMethods(Route + "/timers/{name}", [HttpMethods.Post, HttpMethods.Put], context => CreateTimerAsync(context, sidecar));
        app.MapDelete(Route + "/timers/{name}", context => DeleteTimerAsync(context, sidecar));
    }

    private static (string Type, string Id) Actor(HttpContext context) =>
        ((string)context.Request.RouteValues["actorType"]!, (string)context.Request.RouteValues["actorId"]!);

    private static string Value(HttpContext context, string name) => (string)context.Request.RouteValues[name]!;

    private static async Task InvokeAsync(HttpContext context, Sidecar sidecar)
    {
        var (type, id) = Actor(context);
        var method = Value(context, "method");
        var owner = sidecar.Runtime.ActorPlacement.Lookup(type, id);
        if (owner is null)
        {
            await InvokeError($"did not find address for actor {type}/{id}").WriteAsync(context.Response);
            return;
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var headers = context.Request.Headers.Where(h => !NotForwarded.Contains(h.Key))
            .Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString())).ToList();
        var reentrancyId = context.Request.Headers[ActorHost.ReentrancyHeader].ToString();
        var call = new ActorCall(type, id, "method/" + method, buffer.ToArray(),
            context.Request.ContentType ?? "application/json", headers, reentrancyId.Length == 0 ? null : reentrancyId);

        ActorCallResult result;
        try
        {
            result = await owner.InvokeAsync(call, context.RequestAborted);
        }
        catch (ActorStackDepthException e)
        {
            await new DaprError(500, "ERR_ACTOR_STACK_DEPTH", e.Message).WriteAsync(context.Response);
            return;
        }
        catch (Exception e) when (e is TimeoutException or HttpRequestException)
        {
            sidecar.Logger.LogWarning("Actor call {ActorType}/{ActorId}.{Method} failed: {Error}", type, id, method, e.Message);
            await InvokeError(e.Message).WriteAsync(context.Response);
            return;
        }

        // The .NET SDK's remoting marks actor exceptions with this header; daprd then passes the reply through.
        if (result.StatusCode == 200 || result.Header("X-DaprErrorResponseHeader") is not null)
        {
            context.Response.StatusCode = result.StatusCode;
            foreach (var (name, value) in result.Headers)
            {
                if (!NotForwarded.Contains(name))
                {
                    context.Response.Headers.Append(name, value);
                }
            }
            if (result.ContentType is not null)
            {
                context.Response.ContentType = result.ContentType;
            }
            await context.Response.Body.WriteAsync(result.Body, context.RequestAborted);
            return;
        }
        await InvokeError($"error from actor service: ({result.StatusCode}) {Encoding.UTF8.GetString(result.Body)}").WriteAsync(context.Response);
    }

    private static DaprError InvokeError(string detail) => new(500, "ERR_ACTOR_INVOKE_METHOD", "error invoke actor method: " + detail);

    /// <summary>State calls are only valid on the sidecar that hosts the actor, as in daprd.</summary>
    private static bool TryHostedStateStore(HttpContext context, Sidecar sidecar, out StateStoreBinding store, out DaprError? error)
    {
        var (type, id) = Actor(context);
        store = null!;
        var host = sidecar.Actors;
        if (host is null || host.StateStore is null)
        {
            error = new DaprError(500, "ERR_ACTOR_RUNTIME_NOT_FOUND",
                "the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: \"true\" in your state store component file?");
            return false;
        }
        if (!ReferenceEquals(sidecar.Runtime.ActorPlacement.Lookup(type, id), host))
        {
            error = new DaprError(400, "ERR_ACTOR_INSTANCE_MISSING", "actor instance is missing");
            return false;
        }
        store = host.StateStore;
        error = null;
        return true;
    }

    /// <summary>Actor state keys: <c>{hostAppId}||{actorType}||{actorId}||{key}</c>, raw in the actor state store (daprd's layout).</summary>
    internal static string StateKey(string hostAppId, string actorType, string actorId, string key) =>
        $"{hostAppId}||{actorType}||{actorId}||{key}";

    private static async Task GetStateAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryHostedStateStore(context, sidecar, out var store, out var error))
        {
            await error!.WriteAsync(context.Response);
            return;
        }
        var (type, id) = Actor(context);
        var key = Value(context, "key");
        StateEntry? entry;
        try
        {
            entry = await store.Store.GetAsync(StateKey(sidecar.AppId, type, id, key), context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await new DaprError(500, "ERR_ACTOR_STATE_GET", $"error getting actor state: {e.Message}").WriteAsync(context.Response);
            return;
        }
        if (entry is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        if (entry.ExpiresAt is { } expires)
        {
            context.Response.Headers["Metadata.ttlExpireTime"] = StateApi.FormatTime(expires);
        }
        await context.Response.Body.WriteAsync(entry.Value, context.RequestAborted);
    }

    private static async Task StateTransactionAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryHostedStateStore(context, sidecar, out var store, out var error))
        {
            await error!.WriteAsync(context.Response);
            return;
        }
        var (type, id) = Actor(context);
        List<StateOperation> operations = [];
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("expected a JSON array of operations");
            }
            foreach (var op in body.RootElement.EnumerateArray())
            {
                var kind = op.ValueKind == JsonValueKind.Object && op.TryGetProperty("operation", out var o) ? o.GetString() : null;
                if (!op.TryGetProperty("request", out var request) || request.ValueKind != JsonValueKind.Object
                    || !request.TryGetProperty("key", out var k) || k.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(k.GetString()))
                {
                    throw new JsonException("each operation needs a request with a key");
                }
                var key = StateKey(sidecar.AppId, type, id, k.GetString()!);
                switch (kind)
                {
                    case "upsert":
                        var value = request.TryGetProperty("value", out var v) ? JsonSerializer.SerializeToUtf8Bytes(v) : "null"u8.ToArray();
                        operations.Add(new UpsertOperation(new StateSetRequest(key, value, Ttl: Ttl(request))));
                        break;
                    case "delete":
                        operations.Add(new DeleteOperation(new StateDeleteRequest(key)));
                        break;
                    default:
                        await new DaprError(400, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {kind} not supported").WriteAsync(context.Response);
                        return;
                }
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            await DaprError.Malformed($"failed deserializing HTTP body: {e.Message}").WriteAsync(context.Response);
            return;
        }
        try
        {
            await store.Store.ExecuteTransactionAsync(operations, context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await new DaprError(500, "ERR_ACTOR_STATE_TRANSACTION_SAVE", $"error saving actor transaction state: {e.Message}").WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static TimeSpan? Ttl(JsonElement request)
    {
        if (!request.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty("ttlInSeconds", out var ttl))
        {
            return null;
        }
        var text = ttl.ValueKind == JsonValueKind.String ? ttl.GetString() : ttl.GetRawText();
        var seconds = long.Parse(text!, System.Globalization.CultureInfo.InvariantCulture);
        return seconds <= 0 ? null : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Reminder operations need a sidecar whose app hosts the type (daprd: 403 ERR_ACTOR_REMINDER_NON_HOSTED).</summary>
    private static bool TryReminderHost(HttpContext context, Sidecar sidecar, out ActorHost host, out DaprError? error)
    {
        var (type, _) = Actor(context);
        if (sidecar.Actors is { } actors && actors.Config.Hosts(type))
        {
            host = actors;
            error = null;
            return true;
        }
        host = null!;
        error = new DaprError(403, "ERR_ACTOR_REMINDER_NON_HOSTED", "operations on actor reminders are only possible on hosted actor types");
        return false;
    }

    private static async Task CreateReminderAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryReminderHost(context, sidecar, out var host, out var hostError))
        {
            await hostError!.WriteAsync(context.Response);
            return;
        }
        var (type, id) = Actor(context);
        var name = Value(context, "name");
        ReminderRecord record;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("expected a JSON object");
            }
            var now = DateTimeOffset.UtcNow;
            var dueTime = String(root, "dueTime");
            var periodText = String(root, "period");
            var ttlText = String(root, "ttl");
            if (!ActorTime.TryParseDueTime(dueTime, now, out var due))
            {
                throw new FormatException($"error parsing reminder due time: {dueTime}");
            }
            if (!ActorTime.TryParsePeriod(periodText, out var period))
            {
                throw new FormatException($"error parsing reminder period: {periodText}");
            }
            if (!ActorTime.TryParseTtl(ttlText, now, out var expires))
            {
                throw new FormatException($"error parsing reminder TTL: {ttlText}");
            }
            if (expires is { } e && e < due)
            {
                throw new FormatException($"TTL time {ttlText} must be after the due time {dueTime}");
            }
            record = new ReminderRecord
            {
                ActorId = id,
                Name = name,
                Data = root.TryGetProperty("data", out var data) && data.ValueKind != JsonValueKind.Null ? data.GetRawText() : null,
                DueTime = dueTime,
                Period = periodText,
                Ttl = ttlText,
                NextDue = due,
                ExpiresAt = expires,
                Remaining = period?.Repetitions,
            };
        }
        catch (JsonException e)
        {
            await DaprError.Malformed($"failed deserializing HTTP body: {e.Message}").WriteAsync(context.Response);
            return;
        }
        catch (FormatException e)
        {
            await new DaprError(400, "ERR_MALFORMED_REQUEST", e.Message).WriteAsync(context.Response);
            return;
        }
        try
        {
            await host.Reminders.CreateAsync(type, record, context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await new DaprError(500, "ERR_ACTOR_REMINDER_CREATE", $"error creating actor reminder: {e.Message}").WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task GetReminderAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryReminderHost(context, sidecar, out var host, out var hostError))
        {
            await hostError!.WriteAsync(context.Response);
            return;
        }
        var (type, id) = Actor(context);
        var record = await host.Reminders.GetAsync(type, id, Value(context, "name"), context.RequestAborted);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        // daprd 1.16 answers {} for an unknown reminder (1.18 made it a 404).
        if (record is not null)
        {
            json.WriteString("actorID", id);
            json.WriteString("actorType", type);
            json.WriteString("dueTime", record.DueTime);
            json.WriteString("period", record.Period);
            json.WritePropertyName("data");
            if (record.Data is null) json.WriteNullValue(); else json.WriteRawValue(record.Data);
        }
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static async Task DeleteReminderAsync(HttpContext context, Sidecar sidecar)
    {
        if (!TryReminderHost(context, sidecar, out var host, out var hostError))
        {
            await hostError!.WriteAsync(context.Response);
            return;
        }
        var (type, id) = Actor(context);
        try
        {
            await host.Reminders.DeleteAsync(type, id, Value(context, "name"), context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await new DaprError(500, "ERR_ACTOR_REMINDER_DELETE", $"error deleting actor reminder: {e.Message}").WriteAsync(context.Response);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task CreateTimerAsync(HttpContext context, Sidecar sidecar)
    {
        var (type, id) = Actor(context);
        var host = sidecar.Actors;
        if (host is null || !host.Config.Hosts(type))
        {
            await new DaprError(500, "ERR_ACTOR_TIMER_CREATE", $"error creating actor timer: actor type {type} is not hosted by app {sidecar.AppId}").WriteAsync(context.Response);
            return;
        }
        ActorTimerSpec spec;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("expected a JSON object");
            }
            var now = DateTimeOffset.UtcNow;
            var dueTime = String(root, "dueTime");
            var periodText = String(root, "period");
            var ttlText = String(root, "ttl");
            if (!ActorTime.TryParseDueTime(dueTime, now, out var due) || !ActorTime.TryParsePeriod(periodText, out var period)
                || !ActorTime.TryParseTtl(ttlText, now, out var expires))
            {
                throw new FormatException($"error parsing timer times: dueTime '{dueTime}', period '{periodText}', ttl '{ttlText}'");
            }
            JsonElement? data = root.TryGetProperty("data", out var d) ? d.Clone() : null;
            spec = new ActorTimerSpec(String(root, "callback"), data, due, dueTime, period, expires);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            await new DaprError(500, "ERR_ACTOR_TIMER_CREATE", $"error creating actor timer: {e.Message}").WriteAsync(context.Response);
            return;
        }
        host.CreateTimer(type, id, Value(context, "name"), spec);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Task DeleteTimerAsync(HttpContext context, Sidecar sidecar)
    {
        var (type, id) = Actor(context);
        sidecar.Actors?.DeleteTimer(type, id, Value(context, "name"));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static string String(JsonElement root, string property) =>
        root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
}

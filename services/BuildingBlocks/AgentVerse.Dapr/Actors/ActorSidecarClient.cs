using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AgentVerse.Dapr.Actors;

/// <summary>The actor part of the sidecar HTTP API (<c>/v1.0/actors/...</c>), shared by proxies and hosted actors.</summary>
internal sealed class ActorSidecarClient : IDisposable
{
    private static readonly ConcurrentDictionary<(Uri, string?), ActorSidecarClient> Shared = new();
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>The reentrancy chain of the actor turn running on this async flow, copied onto nested actor calls.</summary>
    internal static readonly AsyncLocal<string?> CurrentReentrancyId = new();

    private readonly HttpClient _http;

    public ActorSidecarClient(Uri endpoint, string? apiToken, TimeSpan timeout)
    {
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90), UseCookies = false })
        {
            BaseAddress = endpoint,
            Timeout = timeout,
        };
        if (apiToken is not null)
        {
            _http.DefaultRequestHeaders.Add("dapr-api-token", apiToken);
        }
    }

    /// <summary>One client (one connection pool) per sidecar endpoint and token, for the life of the process.</summary>
    public static ActorSidecarClient For(Uri? endpoint, string? apiToken, TimeSpan timeout) =>
        Shared.GetOrAdd((endpoint ?? ActorProxyOptions.DefaultEndpoint(), apiToken ?? Environment.GetEnvironmentVariable("DAPR_API_TOKEN")),
            key => new ActorSidecarClient(key.Item1, key.Item2, timeout));

    private static string ActorPath(string actorType, string actorId) =>
        $"v1.0/actors/{Uri.EscapeDataString(actorType)}/{Uri.EscapeDataString(actorId)}";

    public async Task<byte[]> InvokeAsync(string actorType, string actorId, string method, byte[]? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{ActorPath(actorType, actorId)}/method/{Uri.EscapeDataString(method)}");
        request.Content = new ByteArrayContent(body ?? []);
        request.Content.Headers.ContentType = Json;
        if (CurrentReentrancyId.Value is { } chain)
        {
            request.Headers.TryAddWithoutValidation("Dapr-Reentrancy-Id", chain);
        }
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>The stored JSON, or null when the key has no value (204).</summary>
    public async Task<byte[]?> GetStateAsync(string actorType, string actorId, string key, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri($"{ActorPath(actorType, actorId)}/state/{Uri.EscapeDataString(key)}", UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return response.StatusCode == HttpStatusCode.NoContent ? null : await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>Saves upserts and deletes in one transaction; the body is daprd's bare array of operations.</summary>
    public async Task SaveStateAsync(string actorType, string actorId, IReadOnlyList<(string Key, JsonElement? Value)> changes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (key, value) in changes)
            {
                json.WriteStartObject();
                json.WriteString("operation", value is null ? "delete" : "upsert");
                json.WriteStartObject("request");
                json.WriteString("key", key);
                if (value is { } v)
                {
                    json.WritePropertyName("value");
                    v.WriteTo(json);
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        using var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = Json;
        using var response = await _http.PostAsync(new Uri($"{ActorPath(actorType, actorId)}/state", UriKind.Relative), content, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    public async Task PutJsonAsync(string actorType, string actorId, string relativePath, object body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), ActorJson.Options));
        content.Headers.ContentType = Json;
        using var response = await _http.PutAsync(new Uri($"{ActorPath(actorType, actorId)}/{relativePath}", UriKind.Relative), content, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    public async Task<JsonDocument> GetJsonAsync(string actorType, string actorId, string relativePath, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri($"{ActorPath(actorType, actorId)}/{relativePath}", UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
    }

    public async Task DeleteAsync(string actorType, string actorId, string relativePath, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync(new Uri($"{ActorPath(actorType, actorId)}/{relativePath}", UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string? code = null;
        var message = text;
        try
        {
            using var error = JsonDocument.Parse(text);
            if (error.RootElement.ValueKind == JsonValueKind.Object)
            {
                code = error.RootElement.TryGetProperty("errorCode", out var c) ? c.GetString() : null;
                message = error.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? text : text;
            }
        }
        catch (JsonException)
        {
            // Not a Dapr error body; the raw text is the best message there is.
        }
        throw new ActorInvocationException((int)response.StatusCode, code, string.IsNullOrEmpty(message) ? $"sidecar answered {(int)response.StatusCode}" : message);
    }

    public void Dispose() => _http.Dispose();
}

internal static class ActorJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public static readonly Encoding Utf8 = new UTF8Encoding(false);
}

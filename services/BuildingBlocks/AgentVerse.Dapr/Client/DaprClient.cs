using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentVerse.Dapr;

/// <summary>
/// Client for the Dapr sidecar HTTP API: state, pub/sub, service invocation, secrets, metadata and health.
/// Mirrors <c>Dapr.Client.DaprClient</c> of the official SDK. Thread-safe; keep one per sidecar
/// (<see cref="DaprServiceCollectionExtensions.AddDaprClient"/> or <see cref="DaprClientBuilder"/>).
/// </summary>
/// <remarks>
/// W3C trace context flows without extra code: <see cref="HttpClient"/>'s diagnostics handler writes
/// <c>traceparent</c>/<c>tracestate</c> from <see cref="System.Diagnostics.Activity.Current"/> on every call.
/// </remarks>
public sealed partial class DaprClient : IDisposable
{
    internal const string ApiTokenHeader = "dapr-api-token";

    internal static readonly JsonSerializerOptions DefaultJsonOptions = new(JsonSerializerDefaults.Web);

    // Wire DTOs only: omits unset optional fields, which daprd would otherwise have to ignore.
    private static readonly JsonSerializerOptions WireJsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient httpClient;
    private readonly Uri endpoint;
    private readonly string? apiToken;
    private readonly bool ownsHttpClient;

    /// <summary>
    /// Creates a client over <paramref name="httpClient"/>. Without <paramref name="options"/>, the sidecar is
    /// <paramref name="httpClient"/>'s <see cref="HttpClient.BaseAddress"/> if set, else the environment's
    /// (<c>DAPR_HTTP_ENDPOINT</c> / <c>DAPR_HTTP_PORT</c>), and the token is <c>DAPR_API_TOKEN</c>.
    /// </summary>
    public DaprClient(HttpClient httpClient, DaprClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        this.httpClient = httpClient;
        var baseUri = options?.HttpEndpoint ?? httpClient.BaseAddress ?? DaprClientOptions.GetDefaultHttpEndpoint();
        // A trailing slash makes relative API paths append to any path prefix of the endpoint.
        endpoint = baseUri.AbsoluteUri.EndsWith('/') ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
        apiToken = options is null ? DaprClientOptions.GetDefaultApiToken() : options.ApiToken;
        JsonSerializerOptions = options?.JsonSerializerOptions ?? DefaultJsonOptions;
    }

    internal DaprClient(HttpClient httpClient, DaprClientOptions options, bool ownsHttpClient)
        : this(httpClient, options)
        => this.ownsHttpClient = ownsHttpClient;

    /// <summary>Serializer options used for values, event data and invocation bodies.</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; }

    /// <summary>Base address of the sidecar's HTTP API.</summary>
    public Uri HttpEndpoint => endpoint;

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it (<see cref="DaprClientBuilder"/> without a factory); a supplied one stays open.</summary>
    public void Dispose()
    {
        if (ownsHttpClient)
        {
            httpClient.Dispose();
        }
    }

    // ---------------------------------------------------------------- health and metadata

    /// <summary>True when <c>GET /v1.0/healthz</c> answers 2xx: the sidecar, its components and the app channel are ready.</summary>
    public Task<bool> CheckHealthAsync(CancellationToken cancellationToken = default)
        => ProbeAsync("v1.0/healthz", cancellationToken);

    /// <summary>True when <c>GET /v1.0/healthz/outbound</c> answers 2xx: components and API are ready.</summary>
    public Task<bool> CheckOutboundHealthAsync(CancellationToken cancellationToken = default)
        => ProbeAsync("v1.0/healthz/outbound", cancellationToken);

    /// <summary>
    /// Polls the outbound health endpoint, backing off from 50 ms to 1 s, until the sidecar can serve API calls.
    /// Throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires first.
    /// </summary>
    public async Task WaitForSidecarAsync(CancellationToken cancellationToken = default)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (!await CheckOutboundHealthAsync(cancellationToken))
        {
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
        }
    }

    /// <summary>Asks the sidecar to shut down (<c>POST /v1.0/shutdown</c>).</summary>
    public async Task ShutdownSidecarAsync(CancellationToken cancellationToken = default)
    {
        using var request = CreateApiRequest(HttpMethod.Post, "v1.0/shutdown");
        using var response = await SendApiAsync(request, cancellationToken);
    }

    /// <summary>Reads the sidecar's metadata (<c>GET /v1.0/metadata</c>).</summary>
    public async Task<DaprMetadata> GetMetadataAsync(CancellationToken cancellationToken = default)
    {
        using var request = CreateApiRequest(HttpMethod.Get, "v1.0/metadata");
        using var response = await SendApiAsync(request, cancellationToken);
        return await response.Content.ReadFromJsonAsync<DaprMetadata>(WireJsonOptions, cancellationToken)
            ?? throw new DaprException("The sidecar returned empty metadata.");
    }

    /// <summary>Sets an attribute of the sidecar's extended metadata (<c>PUT /v1.0/metadata/{key}</c>).</summary>
    public async Task SetMetadataAsync(string attributeName, string attributeValue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(attributeName);
        using var request = CreateApiRequest(HttpMethod.Put, $"v1.0/metadata/{Uri.EscapeDataString(attributeName)}");
        request.Content = new StringContent(attributeValue ?? "", Encoding.UTF8, "text/plain");
        using var response = await SendApiAsync(request, cancellationToken);
    }

    // ---------------------------------------------------------------- secrets

    /// <summary>Reads one secret (<c>GET /v1.0/secrets/{store}/{name}</c>); a secret can hold several keys. Empty when the store has no data.</summary>
    public async Task<Dictionary<string, string>> GetSecretAsync(
        string storeName, string key, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        ArgumentException.ThrowIfNullOrEmpty(key);
        using var request = CreateApiRequest(HttpMethod.Get, $"v1.0/secrets/{Uri.EscapeDataString(storeName)}/{Uri.EscapeDataString(key)}", metadata);
        using var response = await SendApiAsync(request, cancellationToken);
        return response.StatusCode == HttpStatusCode.NoContent
            ? []
            : await response.Content.ReadFromJsonAsync<Dictionary<string, string>>(WireJsonOptions, cancellationToken) ?? [];
    }

    /// <summary>Reads every secret the app may see in a store (<c>GET /v1.0/secrets/{store}/bulk</c>): secret name → key → value.</summary>
    public async Task<Dictionary<string, Dictionary<string, string>>> GetBulkSecretAsync(
        string storeName, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        using var request = CreateApiRequest(HttpMethod.Get, $"v1.0/secrets/{Uri.EscapeDataString(storeName)}/bulk", metadata);
        using var response = await SendApiAsync(request, cancellationToken);
        return response.StatusCode == HttpStatusCode.NoContent
            ? []
            : await response.Content.ReadFromJsonAsync<Dictionary<string, Dictionary<string, string>>>(WireJsonOptions, cancellationToken) ?? [];
    }

    // ---------------------------------------------------------------- plumbing

    private async Task<bool> ProbeAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var request = CreateApiRequest(HttpMethod.Get, path);
            using var response = await httpClient.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout elapsed: a sidecar too busy to answer a probe is not healthy.
            return false;
        }
    }

    /// <summary>A request to a Dapr API path relative to the endpoint, with <c>metadata.*</c> query parameters and the token.</summary>
    private HttpRequestMessage CreateApiRequest(
        HttpMethod method, string relativePath, IReadOnlyDictionary<string, string>? metadata = null, IEnumerable<KeyValuePair<string, string>>? query = null)
    {
        var builder = new StringBuilder(relativePath);
        var separator = '?';
        foreach (var (name, value) in query ?? [])
        {
            builder.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        foreach (var (name, value) in metadata ?? new Dictionary<string, string>())
        {
            builder.Append(separator).Append("metadata.").Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        var request = new HttpRequestMessage(method, new Uri(endpoint, builder.ToString()));
        AddApiToken(request);
        return request;
    }

    private void AddApiToken(HttpRequestMessage request)
    {
        if (apiToken is not null)
        {
            request.Headers.Remove(ApiTokenHeader);
            request.Headers.TryAddWithoutValidation(ApiTokenHeader, apiToken);
        }
    }

    /// <summary>Sends a Dapr API call; any non-2xx reply becomes a <see cref="DaprApiException"/>.</summary>
    private async Task<HttpResponseMessage> SendApiAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await DaprApiException.FromResponseAsync(response, cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completionOption, CancellationToken cancellationToken)
    {
        try
        {
            return await httpClient.SendAsync(request, completionOption, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new DaprException($"The Dapr sidecar at {endpoint} could not be reached: {ex.Message}", ex);
        }
    }

    /// <summary>A buffered JSON body with a plain <c>application/json</c> type (no charset), so its length is known up front.</summary>
    private static ByteArrayContent CreateJsonContent<T>(T value, JsonSerializerOptions options, string mediaType = "application/json")
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, options));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }
}

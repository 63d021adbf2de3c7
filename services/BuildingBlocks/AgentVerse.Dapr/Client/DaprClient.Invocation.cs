using System.Net.Http.Json;
using System.Text;

namespace AgentVerse.Dapr;

public sealed partial class DaprClient
{
    private static readonly HttpRequestOptionsKey<string> AppIdOption = new("dapr-app-id");
    private static readonly HttpRequestOptionsKey<string> MethodNameOption = new("dapr-method-name");

    /// <summary>
    /// A request for <paramref name="methodName"/> on <paramref name="appId"/> through the sidecar
    /// (<c>{verb} /v1.0/invoke/{appId}/method/{methodName}</c>), carrying the API token. Add headers,
    /// content or a streaming body, then send it with <see cref="InvokeMethodWithResponseAsync"/>.
    /// </summary>
    public HttpRequestMessage CreateInvokeMethodRequest(
        HttpMethod httpMethod,
        string appId,
        string methodName,
        IReadOnlyCollection<KeyValuePair<string, string>>? queryStringParameters = null)
    {
        ArgumentNullException.ThrowIfNull(httpMethod);
        ArgumentException.ThrowIfNullOrEmpty(appId);
        ArgumentNullException.ThrowIfNull(methodName);
        // The method is a path on the callee, slashes included, so it is not escaped as one segment.
        var request = CreateApiRequest(httpMethod, $"v1.0/invoke/{Uri.EscapeDataString(appId)}/method/{methodName.TrimStart('/')}", query: queryStringParameters);
        request.Options.Set(AppIdOption, appId);
        request.Options.Set(MethodNameOption, methodName);
        return request;
    }

    /// <summary>A POST request for <paramref name="methodName"/> on <paramref name="appId"/>, without a body.</summary>
    public HttpRequestMessage CreateInvokeMethodRequest(string appId, string methodName)
        => CreateInvokeMethodRequest(HttpMethod.Post, appId, methodName);

    /// <summary>A request for <paramref name="methodName"/> on <paramref name="appId"/> with <paramref name="data"/> as its JSON body.</summary>
    public HttpRequestMessage CreateInvokeMethodRequest<TRequest>(
        HttpMethod httpMethod,
        string appId,
        string methodName,
        TRequest data,
        IReadOnlyCollection<KeyValuePair<string, string>>? queryStringParameters = null)
    {
        var request = CreateInvokeMethodRequest(httpMethod, appId, methodName, queryStringParameters);
        request.Content = CreateJsonContent(data, JsonSerializerOptions);
        return request;
    }

    /// <summary>A POST request for <paramref name="methodName"/> on <paramref name="appId"/> with <paramref name="data"/> as its JSON body.</summary>
    public HttpRequestMessage CreateInvokeMethodRequest<TRequest>(string appId, string methodName, TRequest data)
        => CreateInvokeMethodRequest(HttpMethod.Post, appId, methodName, data);

    /// <summary>
    /// Sends an invocation request and returns the callee's reply as soon as its headers arrive, whatever its status,
    /// so the body can be streamed. The caller owns (and must dispose) the response. Throws only when the sidecar
    /// cannot be reached.
    /// </summary>
    public Task<HttpResponseMessage> InvokeMethodWithResponseAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        AddApiToken(request);
        return SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>Sends an invocation request; throws <see cref="InvocationException"/> unless the callee answers 2xx.</summary>
    public async Task InvokeMethodAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        using var response = await InvokeAndEnsureSuccessAsync(request, cancellationToken);
    }

    /// <summary>Sends an invocation request and deserializes the JSON reply; throws <see cref="InvocationException"/> unless the callee answers 2xx.</summary>
    public async Task<TResponse?> InvokeMethodAsync<TResponse>(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        using var response = await InvokeAndEnsureSuccessAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return body.Length == 0 ? default : System.Text.Json.JsonSerializer.Deserialize<TResponse>(body, JsonSerializerOptions);
    }

    /// <summary>Invokes <paramref name="methodName"/> on <paramref name="appId"/> with POST and no body.</summary>
    public async Task InvokeMethodAsync(string appId, string methodName, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(appId, methodName);
        await InvokeMethodAsync(request, cancellationToken);
    }

    /// <summary>Invokes <paramref name="methodName"/> on <paramref name="appId"/> with <paramref name="httpMethod"/> and no body.</summary>
    public async Task InvokeMethodAsync(HttpMethod httpMethod, string appId, string methodName, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(httpMethod, appId, methodName);
        await InvokeMethodAsync(request, cancellationToken);
    }

    /// <summary>Invokes <paramref name="methodName"/> on <paramref name="appId"/> with POST and a JSON body.</summary>
    public async Task InvokeMethodAsync<TRequest>(string appId, string methodName, TRequest data, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(appId, methodName, data);
        await InvokeMethodAsync(request, cancellationToken);
    }

    /// <summary>Invokes <paramref name="methodName"/> on <paramref name="appId"/> with <paramref name="httpMethod"/> and a JSON body.</summary>
    public async Task InvokeMethodAsync<TRequest>(HttpMethod httpMethod, string appId, string methodName, TRequest data, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(httpMethod, appId, methodName, data);
        await InvokeMethodAsync(request, cancellationToken);
    }

    /// <summary>Invokes <paramref name="methodName"/> on <paramref name="appId"/> with <paramref name="httpMethod"/> and no body, returning the JSON reply.</summary>
    public async Task<TResponse?> InvokeMethodAsync<TResponse>(HttpMethod httpMethod, string appId, string methodName, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(httpMethod, appId, methodName);
        return await InvokeMethodAsync<TResponse>(request, cancellationToken);
    }

    /// <summary>Invokes <paramref name="methodName"/> on <paramref name="appId"/> with POST and a JSON body, returning the JSON reply.</summary>
    public async Task<TResponse?> InvokeMethodAsync<TRequest, TResponse>(string appId, string methodName, TRequest data, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(appId, methodName, data);
        return await InvokeMethodAsync<TResponse>(request, cancellationToken);
    }

    /// <summary>Invokes <paramref name="methodName"/> on <paramref name="appId"/> with <paramref name="httpMethod"/> and a JSON body, returning the JSON reply.</summary>
    public async Task<TResponse?> InvokeMethodAsync<TRequest, TResponse>(
        HttpMethod httpMethod, string appId, string methodName, TRequest data, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(httpMethod, appId, methodName, data);
        return await InvokeMethodAsync<TResponse>(request, cancellationToken);
    }

    /// <summary>
    /// An <see cref="HttpClient"/> whose requests go through the sidecar: <c>http://{appId}/path?q</c> (or a relative
    /// <c>path</c> when <paramref name="appId"/> is given, which becomes the base address) is sent to
    /// <c>{daprEndpoint}/v1.0/invoke/{appId}/method/path?q</c> with the API token. Replies come back as-is.
    /// </summary>
    /// <param name="appId">Default target; null means each request names its app as the URI host.</param>
    /// <param name="daprEndpoint">Sidecar HTTP endpoint; null reads <c>DAPR_HTTP_ENDPOINT</c>/<c>DAPR_HTTP_PORT</c>.</param>
    /// <param name="daprApiToken">API token; null reads <c>DAPR_API_TOKEN</c>.</param>
    public static HttpClient CreateInvokeHttpClient(string? appId = null, string? daprEndpoint = null, string? daprApiToken = null)
    {
        var handler = new InvocationHandler
        {
            InnerHandler = new SocketsHttpHandler(),
            DaprEndpoint = daprEndpoint is null ? DaprClientOptions.GetDefaultHttpEndpoint() : new Uri(daprEndpoint, UriKind.Absolute),
            DaprApiToken = daprApiToken ?? DaprClientOptions.GetDefaultApiToken(),
            DefaultAppId = appId,
        };
        var client = new HttpClient(handler);
        if (appId is not null)
        {
            client.BaseAddress = new Uri($"http://{appId}/");
        }

        return client;
    }

    private async Task<HttpResponseMessage> InvokeAndEnsureSuccessAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await InvokeMethodWithResponseAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        // Buffer so the exception's Response stays readable after this method returns.
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        request.Options.TryGetValue(AppIdOption, out var appId);
        request.Options.TryGetValue(MethodNameOption, out var methodName);
        throw new InvocationException(appId ?? request.RequestUri?.Host ?? "", methodName ?? request.RequestUri?.AbsolutePath ?? "", response.StatusCode, body, response);
    }
}

/// <summary>
/// Rewrites <c>http://{appId}/path</c> requests to the sidecar's invoke API and adds the API token,
/// as the official SDK's <c>InvocationHandler</c> does. Used by <see cref="DaprClient.CreateInvokeHttpClient"/>;
/// can also be added to an <c>IHttpClientFactory</c> pipeline.
/// </summary>
public sealed class InvocationHandler : DelegatingHandler
{
    /// <summary>The sidecar's HTTP endpoint.</summary>
    public Uri DaprEndpoint { get; set; } = DaprClientOptions.GetDefaultHttpEndpoint();

    /// <summary>Token sent as <c>dapr-api-token</c>; null sends none.</summary>
    public string? DaprApiToken { get; set; } = DaprClientOptions.GetDefaultApiToken();

    /// <summary>
    /// App id used when a request's host matches it ignoring case: <see cref="Uri"/> lower-cases hosts,
    /// and app ids may contain capitals.
    /// </summary>
    public string? DefaultAppId { get; set; }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var original = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        if (!original.IsAbsoluteUri)
        {
            throw new InvalidOperationException("Invocation requests need an absolute URI (http://{appId}/method) or a client base address.");
        }

        var appId = DefaultAppId is not null && string.Equals(original.Host, DefaultAppId, StringComparison.OrdinalIgnoreCase)
            ? DefaultAppId
            : original.Host;
        var baseUri = DaprEndpoint.AbsoluteUri.TrimEnd('/');
        var rewritten = new StringBuilder(baseUri)
            .Append("/v1.0/invoke/").Append(Uri.EscapeDataString(appId)).Append("/method")
            .Append(original.AbsolutePath)
            .Append(original.Query)
            .ToString();
        request.RequestUri = new Uri(rewritten, UriKind.Absolute);
        if (DaprApiToken is not null)
        {
            request.Headers.Remove(DaprClient.ApiTokenHeader);
            request.Headers.TryAddWithoutValidation(DaprClient.ApiTokenHeader, DaprApiToken);
        }

        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            // Callers (and retry handlers above this one) expect to see the URI they sent.
            request.RequestUri = original;
        }
    }
}

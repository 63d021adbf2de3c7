using System.Text.Json;

namespace AgentVerse.Dapr;

/// <summary>Builds a <see cref="DaprClient"/> outside dependency injection, like the official SDK's builder.</summary>
public sealed class DaprClientBuilder
{
    private readonly DaprClientOptions options = new();
    private Func<HttpClient>? httpClientFactory;

    /// <summary>Sets the sidecar's HTTP endpoint (default: <c>DAPR_HTTP_ENDPOINT</c>, else <c>http://127.0.0.1:{DAPR_HTTP_PORT ?? 3500}</c>).</summary>
    public DaprClientBuilder UseHttpEndpoint(string httpEndpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(httpEndpoint);
        options.HttpEndpoint = new Uri(httpEndpoint, UriKind.Absolute);
        return this;
    }

    /// <summary>Sets the API token (default: <c>DAPR_API_TOKEN</c>).</summary>
    public DaprClientBuilder UseDaprApiToken(string? apiToken)
    {
        options.ApiToken = string.IsNullOrEmpty(apiToken) ? null : apiToken;
        return this;
    }

    /// <summary>Sets the serializer options for values, event data and invocation bodies (default: web defaults).</summary>
    public DaprClientBuilder UseJsonSerializationOptions(JsonSerializerOptions jsonSerializerOptions)
    {
        ArgumentNullException.ThrowIfNull(jsonSerializerOptions);
        options.JsonSerializerOptions = jsonSerializerOptions;
        return this;
    }

    /// <summary>Supplies the <see cref="HttpClient"/> to use, e.g. one from <c>IHttpClientFactory</c> (default: a new one).</summary>
    public DaprClientBuilder UseHttpClientFactory(Func<HttpClient> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        httpClientFactory = factory;
        return this;
    }

    /// <summary>Creates the client.</summary>
    public DaprClient Build()
    {
        // A client of our own: no timeout so long invocations and streams are bounded by their CancellationToken instead.
        return httpClientFactory is null
            ? new DaprClient(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, options, ownsHttpClient: true)
            : new DaprClient(httpClientFactory(), options, ownsHttpClient: false);
    }
}

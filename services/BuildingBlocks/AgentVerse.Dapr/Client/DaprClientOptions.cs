using System.Text.Json;

namespace AgentVerse.Dapr;

/// <summary>Where the sidecar is and how to talk to it. Defaults come from the environment Dapr gives the app.</summary>
public sealed class DaprClientOptions
{
    /// <summary>Base address of the Dapr HTTP API, e.g. <c>http://127.0.0.1:3500</c>.</summary>
    public Uri HttpEndpoint { get; set; } = GetDefaultHttpEndpoint();

    /// <summary>Value of the <c>dapr-api-token</c> header sent on every call; null sends none.</summary>
    public string? ApiToken { get; set; } = GetDefaultApiToken();

    /// <summary>Serializer options for state values, event data and invocation bodies (web defaults: camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The endpoint the SDKs use: <c>DAPR_HTTP_ENDPOINT</c> if set, else <c>http://127.0.0.1:{DAPR_HTTP_PORT}</c> (port 3500 by default).
    /// </summary>
    public static Uri GetDefaultHttpEndpoint()
    {
        var endpoint = Environment.GetEnvironmentVariable("DAPR_HTTP_ENDPOINT");
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            return new Uri(endpoint, UriKind.Absolute);
        }

        var port = Environment.GetEnvironmentVariable("DAPR_HTTP_PORT");
        return new Uri($"http://127.0.0.1:{(string.IsNullOrWhiteSpace(port) ? "3500" : port.Trim())}", UriKind.Absolute);
    }

    /// <summary>The <c>DAPR_API_TOKEN</c> environment variable, or null when unset or empty.</summary>
    public static string? GetDefaultApiToken()
        => Environment.GetEnvironmentVariable("DAPR_API_TOKEN") is { Length: > 0 } token ? token : null;
}

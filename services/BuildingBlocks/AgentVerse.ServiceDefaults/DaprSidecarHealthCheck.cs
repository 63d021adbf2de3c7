using AgentVerse.Dapr;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentVerse.ServiceDefaults;

/// <summary>
/// Readiness of the Dapr sidecar: ready once <c>GET /v1.0/healthz/outbound</c> answers 2xx, i.e. the
/// sidecar's components and API are up, so the app can reach state, pub/sub and other apps.
/// </summary>
internal sealed class DaprSidecarHealthCheck(HttpClient httpClient) : IHealthCheck
{
    public const string Name = "dapr-sidecar";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var dapr = new DaprClient(httpClient);
        return await dapr.CheckOutboundHealthAsync(cancellationToken)
            ? HealthCheckResult.Healthy("Dapr sidecar reports outbound health.")
            : new HealthCheckResult(context.Registration.FailureStatus, "Dapr sidecar is unreachable or not ready.");
    }

    /// <summary>
    /// Where the sidecar's HTTP API is, the way the Dapr SDKs find it: <c>DAPR_HTTP_ENDPOINT</c> when set,
    /// else <c>http://127.0.0.1:{DAPR_HTTP_PORT}</c> with Dapr's default port 3500.
    /// </summary>
    public static Uri ResolveSidecarEndpoint(IConfiguration configuration)
    {
        var endpoint = configuration["DAPR_HTTP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            var port = configuration["DAPR_HTTP_PORT"];
            endpoint = $"http://127.0.0.1:{(string.IsNullOrWhiteSpace(port) ? "3500" : port)}";
        }

        // Trailing slash: DaprClient requests relative paths such as "v1.0/healthz/outbound".
        return new Uri(endpoint.EndsWith('/') ? endpoint : endpoint + "/", UriKind.Absolute);
    }
}

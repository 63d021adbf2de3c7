namespace AgentVerse.Dapr;

/// <summary>Client for the Dapr sidecar HTTP API. STUB: the Dapr-library helper completes it.</summary>
public sealed class DaprClient(HttpClient httpClient)
{
    /// <summary>True when <c>GET /v1.0/healthz/outbound</c> answers 2xx: components and API are ready.</summary>
    public async Task<bool> CheckOutboundHealthAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await httpClient.GetAsync(new Uri("v1.0/healthz/outbound", UriKind.Relative), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}

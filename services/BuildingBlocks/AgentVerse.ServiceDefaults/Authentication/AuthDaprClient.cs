using AgentVerse.Dapr;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>
/// The <see cref="DaprClient"/> token validation uses, over a typed client of its own so it needs nothing from
/// whoever registers a <see cref="DaprClient"/> for the app.
/// </summary>
internal sealed class AuthDaprClient(HttpClient httpClient)
{
    public DaprClient Client { get; } = new(httpClient, new DaprClientOptions
    {
        HttpEndpoint = httpClient.BaseAddress!,
        ApiToken = httpClient.DefaultRequestHeaders.TryGetValues("dapr-api-token", out var token) ? token.FirstOrDefault() : null,
    });
}

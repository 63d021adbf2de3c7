using Dapr;
using Dapr.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentVerse.ServiceDefaults.Dapr;

/// <summary>
/// Service invocation as the Dapr SDK recommends it: a plain <see cref="HttpClient"/> whose requests to
/// <c>http://{app-id}/{path}</c> the SDK's <see cref="InvocationHandler"/> sends through the sidecar
/// (<c>/v1.0/invoke/{app-id}/method/{path}</c>, with <c>dapr-api-token</c> when one is set).
/// </summary>
public static class DaprInvocation
{
    /// <summary>The name of the client; resolve it with <c>IHttpClientFactory.CreateClient(DaprInvocation.HttpClientName)</c>.</summary>
    public const string HttpClientName = "dapr-invoke";

    /// <summary>The address of <paramref name="path"/> on app <paramref name="appId"/> for the invocation client.</summary>
    public static Uri AppUri(string appId, string path) => new($"http://{appId}/{path.TrimStart('/')}");

    internal static IHttpClientBuilder AddDaprInvocationClient(this IServiceCollection services, IConfiguration configuration) =>
        services.AddHttpClient(HttpClientName)
            // The SDK's handler reads the sidecar's address and DAPR_API_TOKEN as DaprClient does.
            .AddHttpMessageHandler(() => new InvocationHandler { DaprEndpoint = DaprDefaults.GetDefaultHttpEndpoint(configuration) })
            // Invocation is the hot path of the gateway and of every service-to-service call: no per-request log lines.
            .RemoveAllLoggers();
}

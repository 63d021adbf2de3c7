using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentVerse.Dapr;

/// <summary>Registers <see cref="DaprClient"/> with dependency injection.</summary>
public static class DaprServiceCollectionExtensions
{
    /// <summary>Name of the <see cref="IHttpClientFactory"/> client the <see cref="DaprClient"/> uses, for adding handlers.</summary>
    public const string HttpClientName = "AgentVerse.Dapr";

    /// <summary>
    /// Registers a singleton <see cref="DaprClient"/> over a named <see cref="IHttpClientFactory"/> client
    /// (<see cref="HttpClientName"/>), configured from the environment and then <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddDaprClient(this IServiceCollection services, Action<DaprClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<DaprClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddHttpClient(HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan);
        // One client per sidecar, as in the official SDK; the sidecar is on loopback, so the
        // handler-rotation benefits of short-lived factory clients (DNS changes) do not apply.
        services.TryAddSingleton(sp => new DaprClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName),
            sp.GetRequiredService<IOptions<DaprClientOptions>>().Value));
        return services;
    }
}

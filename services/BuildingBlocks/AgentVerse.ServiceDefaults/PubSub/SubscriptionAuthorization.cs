using Dapr;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentVerse.ServiceDefaults.PubSub;

/// <summary>
/// Who may call a subscription endpoint: where <c>APP_API_TOKEN</c> is set (Dapr's app API token), only the sidecar,
/// through the SDK's <c>AddDapr()</c> authentication scheme and policy; where it is not (a local run), anyone who
/// can reach the app port, as Dapr's own samples have it.
/// </summary>
public static class SubscriptionAuthorization
{
    /// <summary>The policy the SDK's <c>AddDapr()</c> registers.</summary>
    public const string DaprPolicy = "Dapr";

    internal static void AddDaprAppTokenAuthentication(this IServiceCollection services, AuthenticationBuilder authentication, IConfiguration configuration)
    {
        if (string.IsNullOrEmpty(DaprDefaults.GetDefaultAppApiToken(configuration)))
        {
            return;
        }

        authentication.AddDapr(options => options.Token = DaprDefaults.GetDefaultAppApiToken(configuration));
        services.AddAuthorization(options => options.AddDapr(DaprPolicy));
    }

    /// <summary>Only Dapr's sidecar may deliver to this endpoint when the app has an app API token.</summary>
    /// <param name="builder">A subscription endpoint (one with <c>WithTopic</c>).</param>
    /// <param name="configuration">The app's configuration, which holds <c>APP_API_TOKEN</c> when it is set.</param>
    public static TBuilder RequireDaprSidecar<TBuilder>(this TBuilder builder, IConfiguration configuration) where TBuilder : IEndpointConventionBuilder =>
        string.IsNullOrEmpty(DaprDefaults.GetDefaultAppApiToken(configuration))
            ? builder.AllowAnonymous()
            : builder.RequireAuthorization(DaprPolicy);
}

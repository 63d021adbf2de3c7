using AgentVerse.Gateway.Protection;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Routing;

/// <summary>
/// Routes <c>/api/v1/{resource}/**</c>, <c>/a2a/**</c> and <c>/mcp</c> to the owning service through Dapr.
/// Authenticated before forwarding, except A2A agent-card discovery (<c>/a2a/{agent}/.well-known/agent-card.json</c>
/// and the older <c>agent.json</c>), which A2A clients read before they have credentials.
/// </summary>
public static class ProxyApi
{
    private static readonly string[] AllMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    public static IEndpointRouteBuilder MapProxyApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").WithTags("Proxy").ExcludeFromDescription()
            .RequireAuthorization(AgentVersePolicies.Viewer)
            .RequireRateLimiting(RateLimitPolicies.PerUser);

        api.MapMethods("/api/v1/{resource}/{**path}", AllMethods, ForwardResourceAsync);
        api.MapMethods("/a2a/{**path}", AllMethods, (HttpContext context, DaprForwarder forwarder, IOptions<RoutingOptions> routing) =>
            forwarder.ForwardAsync(context, routing.Value.A2aAppId, TimeSpan.FromSeconds(routing.Value.DefaultTimeoutSeconds)));
        api.MapMethods("/mcp/{**path}", AllMethods, (HttpContext context, DaprForwarder forwarder, IOptions<RoutingOptions> routing) =>
            forwarder.ForwardAsync(context, routing.Value.McpAppId, TimeSpan.FromSeconds(routing.Value.DefaultTimeoutSeconds)));

        foreach (var card in new[] { "agent-card.json", "agent.json" })
        {
            app.MapGet($"/a2a/{{agentId}}/.well-known/{card}", (HttpContext context, DaprForwarder forwarder, IOptions<RoutingOptions> routing) =>
                    forwarder.ForwardAsync(context, routing.Value.A2aAppId, TimeSpan.FromSeconds(routing.Value.DefaultTimeoutSeconds)))
                .AllowAnonymous()
                .RequireRateLimiting(RateLimitPolicies.PerIp)
                .ExcludeFromDescription();
        }

        return app;
    }

    private static async Task ForwardResourceAsync(string resource, HttpContext context, DaprForwarder forwarder, IOptions<RoutingOptions> routing)
    {
        if (!routing.Value.Routes.TryGetValue(resource, out var target))
        {
            await TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown resource",
                detail: $"No service serves /api/v1/{resource}.").ExecuteAsync(context);
            return;
        }

        await forwarder.ForwardAsync(context, target.AppId, routing.Value.TimeoutFor(target));
    }
}

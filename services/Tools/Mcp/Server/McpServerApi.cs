using AgentVerse.ServiceDefaults.Authentication;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>
/// <c>/mcp</c>: MCP over Streamable HTTP, served by the SDK (<c>ModelContextProtocol.AspNetCore</c>'s
/// <c>MapMcp</c>). Clients that <c>initialize</c> (2025-11-25 and earlier) get a session (<c>Mcp-Session-Id</c>, GET
/// stream, DELETE) bound to their user; 2026-07-28 clients are served statelessly, one server per POST. Every request
/// needs a gateway-issued bearer token; <see cref="McpRequestFilter"/> adds what the SDK does otherwise or not at all.
/// </summary>
internal static class McpServerApi
{
    public const string Path = "/mcp";
    public const string SessionIdHeader = "Mcp-Session-Id";
    public const string ProtocolVersionHeader = "MCP-Protocol-Version";

    /// <summary>The first protocol without sessions; the SDK serves it and later ones statelessly.</summary>
    public const string StatelessVersion = "2026-07-28";

    public static IEndpointRouteBuilder MapMcpServer(this IEndpointRouteBuilder app)
    {
        app.MapMcp(Path)
            .WithTags("MCP")
            .ExcludeFromDescription()
            .RequireAuthorization(AgentVersePolicies.Authenticated)
            .AddEndpointFilter<IEndpointConventionBuilder, McpRequestFilter>();
        return app;
    }

    /// <summary>Whether the request is served statelessly, as the SDK decides it: by its protocol version header.</summary>
    public static bool IsStateless(HttpRequest request) =>
        string.CompareOrdinal(request.Headers[ProtocolVersionHeader].ToString(), StatelessVersion) >= 0;
}

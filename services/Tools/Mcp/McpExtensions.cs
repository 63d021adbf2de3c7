using System.Text;
using AgentVerse.Tools.Mcp.Client;
using AgentVerse.Tools.Mcp.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp;

/// <summary>Wires the tools service's MCP server (<c>/mcp</c>) and MCP client (<c>/api/v1/mcp/servers</c>).</summary>
internal static class McpExtensions
{
    public static IHostApplicationBuilder AddMcp(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<McpEndpointOptions>().BindConfiguration(McpEndpointOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<McpToolListChanges>();
        if (builder.Configuration.GetValue<bool>("Mcp:Server:ConformanceFixtures"))
        {
            builder.Services.AddSingleton<IMcpToolCatalog, ConformanceFixtureCatalog>();
        }

        builder.Services.TryAddSingleton<IMcpToolCatalog, RegistryToolCatalog>();
        builder.Services.AddSingleton<McpToolHandlers>();
        builder.Services.AddSingleton<McpSessions>();
        builder.Services
            .AddMcpServer(server =>
            {
                server.ServerInfo = McpToolHandlers.ServerInfo;
                server.Capabilities = new ServerCapabilities { Tools = new ToolsCapability { ListChanged = true } };
            })
            .WithHttpTransport()
            .WithListToolsHandler((request, ct) => request.Services!.GetRequiredService<McpToolHandlers>().ListToolsAsync(request, ct))
            .WithCallToolHandler((request, ct) => request.Services!.GetRequiredService<McpToolHandlers>().CallToolAsync(request, ct));
        builder.Services.AddOptions<HttpServerTransportOptions>()
            .Configure<IOptions<McpEndpointOptions>, McpSessions, TimeProvider>((transport, endpoint, sessions, clock) =>
            {
                // Sessions for clients that initialize (2025-11-25 and earlier), statelessly served 2026-07-28 clients.
                transport.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
#pragma warning disable MCP9006 // The session settings are marked legacy, and 2025-11-25 clients are why sessions are on.
                transport.IdleTimeout = endpoint.Value.SessionIdleTimeout;
                transport.MaxIdleSessionCount = endpoint.Value.MaxSessions;
#pragma warning restore MCP9006
#pragma warning disable MCPEXP002 // The one hook that sees a session's server from its start to its end (see McpSessions).
                transport.RunSessionHandler = sessions.RunAsync;
#pragma warning restore MCPEXP002
                transport.TimeProvider = clock;
            });

        // MCP's headers are ASCII. Read as Latin-1, any byte reaches McpRequestFilter, which answers a non-ASCII one
        // with a JSON-RPC 400; Kestrel would refuse invalid UTF-8 itself with an empty 400. Other headers keep UTF-8.
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.RequestHeaderEncodingSelector =
            name => name.StartsWith("Mcp-", StringComparison.OrdinalIgnoreCase) ? Encoding.Latin1 : null);

        builder.Services.AddOptions<McpClientSettings>().BindConfiguration(McpClientSettings.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<McpServerStore>();
        builder.Services.AddSingleton<McpConnections>();
        builder.Services.AddSingleton<McpToolInvoker>();
        return builder;
    }

    public static WebApplication MapMcpEndpoints(this WebApplication app)
    {
        app.MapMcpServer();
        app.MapMcpServersApi();
        return app;
    }
}

using AgentVerse.Tools.Mcp.Client;
using AgentVerse.Tools.Mcp.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;

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
        builder.Services.AddSingleton<McpServerFactory>();
        builder.Services.AddSingleton<McpSessions>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<McpSessions>());

        builder.Services.AddOptions<McpClientSettings>().BindConfiguration(McpClientSettings.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<McpServerStore>();
        builder.Services.AddSingleton<McpConnections>();
        builder.Services.AddSingleton<McpToolInvoker>();
        return builder;
    }

    public static WebApplication MapMcp(this WebApplication app)
    {
        app.MapMcpServer();
        app.MapMcpServersApi();
        return app;
    }
}

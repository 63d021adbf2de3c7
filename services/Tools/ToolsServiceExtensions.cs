using System.Net;
using AgentVerse.ServiceDefaults;
using AgentVerse.ServiceDefaults.Secrets;
using AgentVerse.Tools.BuiltIns;
using AgentVerse.Tools.Execution;
using AgentVerse.Tools.Registry;

namespace AgentVerse.Tools;

public static class ToolsServiceExtensions
{
    /// <summary>The registry, the built-in tools, safe outbound HTTP and execution with its background recorder.</summary>
    public static IHostApplicationBuilder AddToolsCore(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<ToolsOptions, ToolsOptionsValidator>(ToolsOptions.SectionName)
            .Validate(o => o.Http.AllowedNetworks.All(n => IPNetwork.TryParse(n, out _)), "Tools:Http:AllowedNetworks holds CIDR networks (10.0.0.0/8).")
            .Validate(o => o.Http.AllowedEndpoints.All(e => IPEndPoint.TryParse(e, out var ep) && ep.Port != 0), "Tools:Http:AllowedEndpoints holds address:port entries.")
            .Validate(o => o.DefaultTimeoutMs <= o.MaxTimeoutMs, "Tools:DefaultTimeoutMs must not exceed Tools:MaxTimeoutMs.");

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<AddressPolicy>();
        services.AddSingleton<SafeHttpClient>();
        services.AddSingleton<IBuiltInTool, CalculatorTool>();
        services.AddSingleton<IBuiltInTool, DateTimeTool>();
        services.AddSingleton<IBuiltInTool, HttpRequestTool>();
        services.AddSingleton<IBuiltInTool, JsonQueryTool>();
        services.AddSingleton<IBuiltInTool, TextTool>();
        services.AddSingleton<IBuiltInTool, HashTool>();
        services.AddSingleton<IBuiltInTool, UuidTool>();
        services.AddSingleton<BuiltInCatalog>();
        services.AddSingleton<ApiKeyProtector>();
        services.AddStartupLoader<ApiKeyProtector>();
        services.AddSingleton<ToolRegistry>();
        services.AddSingleton<CustomToolInvoker>();
        services.AddSingleton<ExecutionIndex>();
        services.AddSingleton<ExecutionRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<ExecutionRecorder>());
        services.AddSingleton<ToolCatalog>();
        services.AddSingleton<ToolExecutor>();
        return builder;
    }
}

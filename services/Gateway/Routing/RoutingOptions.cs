using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Routing;

/// <summary>
/// Which Dapr app serves each <c>/api/v1/{resource}</c>, bound from <c>Gateway:Routing</c>. Configuration adds
/// resources or overrides these defaults; <c>users</c> is served by the gateway itself.
/// </summary>
public sealed class RoutingOptions
{
    public const string SectionName = "Gateway:Routing";

    /// <summary>Resource (first segment after <c>/api/v1/</c>) → target app and timeout.</summary>
    public Dictionary<string, RouteTarget> Routes { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["agents"] = new() { AppId = "agents" },
        ["templates"] = new() { AppId = "agents" },
        ["orchestration"] = new() { AppId = "orchestrator" },
        ["orchestrator"] = new() { AppId = "orchestrator" },
        ["rag"] = new() { AppId = "rag" },
        ["tools"] = new() { AppId = "tools" },
        ["mcp"] = new() { AppId = "tools" },
        ["sql"] = new() { AppId = "sqltool" },
        ["workflows"] = new() { AppId = "workflow-engine" },
        ["observability"] = new() { AppId = "observability" },
    };

    /// <summary>Target of <c>/a2a/**</c>.</summary>
    [Required]
    public string A2aAppId { get; set; } = "agents";

    /// <summary>Target of <c>/mcp</c>.</summary>
    [Required]
    public string McpAppId { get; set; } = "tools";

    /// <summary>
    /// Longest wait for a target's response headers, in seconds, unless the route sets its own. A streaming body
    /// (SSE) may then flow for as long as the client stays.
    /// </summary>
    [Range(1, 3600)]
    public int DefaultTimeoutSeconds { get; set; } = 30;

    /// <summary>Per-app timeout of the aggregate <c>/health</c> readiness probes, in seconds.</summary>
    [Range(0.1, 60)]
    public double HealthTimeoutSeconds { get; set; } = 2;

    public TimeSpan TimeoutFor(RouteTarget target) => TimeSpan.FromSeconds(target.TimeoutSeconds ?? DefaultTimeoutSeconds);

    /// <summary>Every app the gateway routes to, for the aggregate health.</summary>
    public IEnumerable<string> AppIds => Routes.Values.Select(r => r.AppId).Append(A2aAppId).Append(McpAppId).Distinct(StringComparer.Ordinal);
}

/// <summary>
/// Checks <see cref="RoutingOptions"/> and every route in <see cref="RoutingOptions.Routes"/> (a dictionary, which the
/// source-generated validator does not enumerate), naming a bad route by its configuration key.
/// </summary>
public sealed class RoutingOptionsValidator : IValidateOptions<RoutingOptions>
{
    private readonly RoutingOptionsMembersValidator _members = new();
    private readonly RouteTargetValidator _target = new();

    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(_members.Validate(name, options));
        foreach (var (resource, target) in options.Routes)
        {
            var result = _target.Validate(name, target);
            if (result.Failed)
            {
                foreach (var failure in result.Failures)
                {
                    builder.AddError(failure, $"{RoutingOptions.SectionName}:Routes:{resource}");
                }
            }
        }

        return builder.Build();
    }
}

[OptionsValidator]
internal sealed partial class RoutingOptionsMembersValidator : IValidateOptions<RoutingOptions>;

[OptionsValidator]
internal sealed partial class RouteTargetValidator : IValidateOptions<RouteTarget>;

public sealed class RouteTarget
{
    [Required]
    public string AppId { get; set; } = "";

    /// <summary>Overrides <see cref="RoutingOptions.DefaultTimeoutSeconds"/> for this resource.</summary>
    [Range(1, 3600)]
    public int? TimeoutSeconds { get; set; }
}

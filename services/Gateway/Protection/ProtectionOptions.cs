using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Protection;

/// <summary>Rate limits, bound from <c>Gateway:RateLimits</c>.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Gateway:RateLimits";

    /// <summary>Token bucket per authenticated user: sustained requests per second.</summary>
    [Range(1, 1_000_000)]
    public int PerUserRequestsPerSecond { get; set; } = 20;

    /// <summary>Token bucket per authenticated user: burst size.</summary>
    [Range(1, 1_000_000)]
    public int PerUserBurst { get; set; } = 100;

    /// <summary>Requests per client IP to <c>/api/auth/*</c> within <see cref="PerIpWindowSeconds"/>.</summary>
    [Range(1, 1_000_000)]
    public int PerIpRequests { get; set; } = 20;

    [Range(1, 3600)]
    public int PerIpWindowSeconds { get; set; } = 60;
}

[OptionsValidator]
public sealed partial class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>;

/// <summary>CORS, bound from <c>Gateway:Cors</c>.</summary>
public sealed class CorsOptions
{
    public const string SectionName = "Gateway:Cors";

    /// <summary>Origins allowed to call the API from a browser; empty allows none.</summary>
    public IList<string> AllowedOrigins { get; } = [];
}

using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using AgentVerse.ServiceDefaults;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Protection;

/// <summary>
/// Two limiters: a token bucket per user on authenticated routes, and a fixed window per client IP on
/// <c>/api/auth/*</c> (and open A2A discovery). Refusals are 429 problem+json with <c>Retry-After</c>.
/// </summary>
public static class RateLimitPolicies
{
    public const string PerUser = "per-user";
    public const string PerIp = "per-ip";

    public static IServiceCollection AddGatewayRateLimits(this IServiceCollection services)
    {
        services.AddValidatedOptions<RateLimitOptions, RateLimitOptionsValidator>(RateLimitOptions.SectionName);
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(PerUser, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var user = context.User.FindFirstValue(AgentVerseClaims.Subject);
                return RateLimitPartition.GetTokenBucketLimiter(user is null ? $"ip:{ClientIp(context)}" : $"user:{user}", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.PerUserBurst,
                    TokensPerPeriod = limits.PerUserRequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.AddPolicy(PerIp, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                return RateLimitPartition.GetFixedWindowLimiter(ClientIp(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.PerIpRequests,
                    Window = TimeSpan.FromSeconds(limits.PerIpWindowSeconds),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                var http = rejected.HttpContext;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    detail: $"Rate limit exceeded; retry in {seconds} seconds.").ExecuteAsync(http);
            };
        });
        return services;
    }

    // The gateway is the edge: the connection's address is the client's. Behind a load balancer, add
    // forwarded-headers handling with a known-proxies list before trusting X-Forwarded-For.
    private static string ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}

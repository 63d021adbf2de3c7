using System.Diagnostics;
using AgentVerse.Gateway.Routing;
using AgentVerse.ServiceDefaults.Dapr;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Apis;

/// <summary>
/// <c>GET /health</c>: every routed service's <c>/readyz</c>, invoked through Dapr in parallel with a bounded
/// timeout each. Healthy when all are ready, unhealthy (503) when none is, degraded otherwise.
/// </summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", GetAsync).AllowAnonymous().WithTags("Health");
        return app;
    }

    public static async Task<JsonHttpResult<AggregateHealth>> GetAsync(IHttpClientFactory http, IOptions<RoutingOptions> routing, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(routing.Value.HealthTimeoutSeconds);
        using var client = http.CreateClient(DaprInvocation.HttpClientName);
        var checks = await Task.WhenAll(routing.Value.AppIds.Select(appId => ProbeAsync(client, appId, timeout, cancellationToken)));
        var ready = checks.Count(c => c.Status == "healthy");
        var status = ready == checks.Length ? "healthy" : ready == 0 ? "unhealthy" : "degraded";
        return TypedResults.Json(
            new AggregateHealth(status, checks.ToDictionary(c => c.AppId, c => c)),
            statusCode: status == "unhealthy" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    private static async Task<ServiceHealth> ProbeAsync(HttpClient client, string appId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await client.GetAsync(DaprInvocation.AppUri(appId, "readyz"), deadline.Token);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return response.IsSuccessStatusCode
                ? new ServiceHealth(appId, "healthy", elapsed, null)
                : new ServiceHealth(appId, "unhealthy", elapsed, $"readyz answered {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ServiceHealth(appId, "unhealthy", Stopwatch.GetElapsedTime(started).TotalMilliseconds, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex)
        {
            return new ServiceHealth(appId, "unhealthy", Stopwatch.GetElapsedTime(started).TotalMilliseconds, ex.Message);
        }
    }
}

public sealed record AggregateHealth(string Status, IReadOnlyDictionary<string, ServiceHealth> Services);

public sealed record ServiceHealth(string AppId, string Status, double DurationMs, string? Detail);

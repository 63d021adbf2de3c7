using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentVerse.ServiceDefaults;

/// <summary>
/// Writes a health report as JSON listing each check, so an operator (or the gateway's aggregate
/// <c>/health</c>) sees which dependency is down, not just a 503. Exception details stay out of it.
/// </summary>
internal static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var body = new HealthReportBody(
            report.Status.ToString(),
            report.TotalDuration.TotalMilliseconds,
            [.. report.Entries.Select(entry => new HealthCheckBody(
                entry.Key,
                entry.Value.Status.ToString(),
                entry.Value.Description,
                entry.Value.Duration.TotalMilliseconds))]);

        return context.Response.WriteAsJsonAsync(body, context.RequestAborted);
    }

    private sealed record HealthReportBody(string Status, double TotalDurationMs, IReadOnlyList<HealthCheckBody> Checks);

    private sealed record HealthCheckBody(string Name, string Status, string? Description, double DurationMs);
}

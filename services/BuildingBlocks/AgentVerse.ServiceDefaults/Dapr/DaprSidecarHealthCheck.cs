using Dapr.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentVerse.ServiceDefaults.Dapr;

/// <summary>
/// Readiness of the Dapr sidecar: ready once its outbound health answers 2xx, i.e. the sidecar's components and
/// API are up, so the app can reach state, pub/sub and other apps.
/// </summary>
internal sealed class DaprSidecarHealthCheck(DaprClient dapr) : IHealthCheck
{
    public const string Name = "dapr-sidecar";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await dapr.CheckOutboundHealthAsync(cancellationToken)
            ? HealthCheckResult.Healthy("Dapr sidecar reports outbound health.")
            : new HealthCheckResult(context.Registration.FailureStatus, "Dapr sidecar is unreachable or not ready.");
}

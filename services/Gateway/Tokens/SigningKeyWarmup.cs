using AgentVerse.Dapr;

namespace AgentVerse.Gateway.Tokens;

/// <summary>
/// Loads (or generates and stores) the signing keys as soon as the sidecar is up, so a missing key is created at
/// start rather than on the first login, and the JWKS is ready when services first ask for it. Start-up does not
/// wait for it: the sidecar may come up after the gateway.
/// </summary>
internal sealed class SigningKeyWarmup(DaprClient dapr, SigningKeyStore keys, IConfiguration configuration, ILogger<SigningKeyWarmup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Only where a sidecar is configured (Dapr and the launcher set these); elsewhere the first login loads the key.
        if (string.IsNullOrEmpty(configuration["DAPR_HTTP_PORT"]) && string.IsNullOrEmpty(configuration["DAPR_HTTP_ENDPOINT"]))
        {
            return;
        }

        // Housekeeping, not a request: its sidecar polls should not show up as traces.
        using var untraced = OpenTelemetry.SuppressInstrumentationScope.Begin();
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await dapr.WaitForSidecarAsync(stoppingToken);
                await keys.GetAsync(stoppingToken);
                return;
            }
            catch (Exception ex) when (ex is DaprException or IOException or InvalidOperationException)
            {
                logger.LogWarning(ex, "Signing keys not loaded yet; retrying in {Delay}", delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AgentVerse.ServiceDefaults;

/// <summary>
/// Resolves the tracer and meter providers when the host starts: they are created lazily, and until
/// they exist nothing listens to the activity sources and meters. The container disposes them (which
/// flushes the exporters) when the host stops.
/// </summary>
internal sealed class TelemetryHostedService : IHostedService
{
    public TelemetryHostedService(IServiceProvider services)
    {
        // Resolved in the constructor because the host builds every hosted service before starting the
        // first one, so the providers exist before the web server accepts a request.
        _ = services.GetService<TracerProvider>();
        _ = services.GetService<MeterProvider>();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AgentVerse.ServiceDefaults;

/// <summary>
/// The two pieces of OpenTelemetry.Extensions.Hosting that package restore cannot give us here: an
/// <see cref="IOpenTelemetryBuilder"/> over the app's services (so the core package's <c>WithTracing</c>,
/// <c>WithMetrics</c>, <c>WithLogging</c> and the exporter's <c>UseOtlpExporter</c> register the providers in
/// the app's container, reading the app's configuration), and a hosted service that creates the providers.
/// </summary>
internal sealed class OpenTelemetryServicesBuilder(IServiceCollection services) : IOpenTelemetryBuilder
{
    public IServiceCollection Services { get; } = services;
}

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

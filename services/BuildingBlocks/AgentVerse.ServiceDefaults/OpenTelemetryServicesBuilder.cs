using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;

namespace AgentVerse.ServiceDefaults;

/// <summary>
/// What <c>services.AddOpenTelemetry()</c> from OpenTelemetry.Extensions.Hosting returns; that package does
/// not restore here. Over it the core package's <c>WithTracing</c>, <c>WithMetrics</c>, <c>WithLogging</c> and
/// the exporter's <c>UseOtlpExporter</c> register the providers in the app's container, reading the app's
/// configuration. <see cref="TelemetryHostedService"/> is the package's other half.
/// </summary>
internal sealed class OpenTelemetryServicesBuilder(IServiceCollection services) : IOpenTelemetryBuilder
{
    public IServiceCollection Services { get; } = services;
}

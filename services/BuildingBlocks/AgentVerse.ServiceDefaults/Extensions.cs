using AgentVerse.ServiceDefaults;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.ServiceDefaults.Dapr;
using AgentVerse.ServiceDefaults.Errors;
using AgentVerse.ServiceDefaults.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Scalar.AspNetCore;

// The namespace of IHostApplicationBuilder, as in eShop, so Program.cs needs no using for these.
namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Cross-cutting setup every AgentVerse service shares: binding, OpenTelemetry, JSON logs, problem details,
/// request size limit, health checks, OpenAPI and zero-trust bearer authentication with the role policies
/// (<see cref="AgentVersePolicies"/>). <c>Program.cs</c> calls <see cref="AddServiceDefaults"/>
/// on the builder and <see cref="MapDefaultEndpoints"/> on the app right after <c>Build()</c>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Liveness route: the process is up and serving, with no dependency checked.</summary>
    public const string LivenessPath = "/healthz";

    /// <summary>Readiness route: every check tagged <see cref="ReadyTag"/>, the Dapr sidecar included.</summary>
    public const string ReadinessPath = "/readyz";

    /// <summary>Tag of the health checks that liveness runs.</summary>
    public const string LiveTag = "live";

    /// <summary>Tag of the health checks that readiness runs; services tag their own dependency checks with it.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Adds the shared service defaults to a web application builder.</summary>
    /// <param name="builder">The application builder, usually from <c>WebApplication.CreateBuilder(args)</c>.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddValidatedOptions<ServiceDefaultsOptions, ServiceDefaultsOptionsValidator>(ServiceDefaultsOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) => options.AppId = AppIdFrom(configuration) ?? "");

        builder.ConfigureBinding();
        // One DaprClient per process, configured from DAPR_HTTP_ENDPOINT/PORT, DAPR_GRPC_ENDPOINT/PORT and DAPR_API_TOKEN.
        builder.Services.AddDaprClient();
        builder.Services.AddDaprInvocationClient(builder.Configuration);
        builder.Services.AddSingleton<StartupLoaderService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StartupLoaderService>());
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddAgentVerseAuthentication();

        builder.Logging.AddJsonConsole(options =>
        {
            // The scopes carry TraceId/SpanId of the current activity, which ties a log line to its trace.
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

        builder.Services.AddProblemDetails();
        builder.AddRequestErrorHandling();
        builder.Services.AddOpenApi();

        return builder;
    }

    /// <summary>
    /// Adds the shared middleware (problem details for errors, request size check, CloudEvents, CORS when
    /// registered, authentication and authorization) and maps <c>/healthz</c>, <c>/readyz</c>,
    /// <c>/openapi/v1.json</c> (with its explorer at <c>/scalar/v1</c> in Development), <c>/dapr/subscribe</c> and
    /// the <c>session.revoked</c> subscription.
    /// Call it first after <c>Build()</c> so the exception handler wraps everything the service adds after it.
    /// Services need not map <c>/dapr/subscribe</c> (this one lists their <c>WithTopic</c> endpoints too), but may.
    /// </summary>
    /// <param name="app">The built application.</param>
    /// <returns>The same application, for chaining.</returns>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // With AddProblemDetails registered, both write RFC 9457 problem+json: unhandled exceptions become
        // a 500 (a 4xx for an unreadable request) without exception details (the developer page shows those in
        // Development), and bare 4xx/5xx responses, such as 404 for an unknown route, get a body.
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestBodyLimitMiddleware>();

        // Dapr delivers events (session.revoked among them) as CloudEvents.
        app.UseCloudEvents();

        // CORS answers preflights before authentication would refuse them; only where a service registered CORS.
        if (app.Services.GetService<ICorsService>() is not null)
        {
            app.UseCors();
        }

        // Zero trust: every service validates the bearer token itself; paths under /api need one.
        app.UseAgentVerseAuthentication();
        app.UseMiddleware<UnstorableRouteValues>();
        // A late order: a service that maps /dapr/subscribe itself wins without an ambiguous match, and either
        // lists every WithTopic endpoint, the session.revoked subscription included.
        app.MapSubscribeHandler().WithOrder(1_000);

        // Health endpoints exist in every environment: Kubernetes and the local launcher probe them.
        app.MapHealthChecks(LivenessPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        }).AllowAnonymous();
        app.MapHealthChecks(ReadinessPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(ReadyTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        }).AllowAnonymous();

        app.MapOpenApi().AllowAnonymous();
        // The API explorer over that document (/scalar/v1), for people trying the API on their own machine.
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference().AllowAnonymous();
        }

        return app;
    }

    /// <summary>
    /// Where to listen, most explicit first: URLs given in the environment or on the command line
    /// (<c>ASPNETCORE_URLS</c>, <c>--urls</c>, as in Kubernetes); else, under the launcher, which sets
    /// <c>APP_PORT</c>, that port on loopback, where the sidecar calls the app; else the <c>Urls</c>
    /// from appsettings, the local default.
    /// </summary>
    private static void ConfigureBinding(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ServiceDefaultsOptions>>((kestrel, defaults) =>
                kestrel.Limits.MaxRequestBodySize = defaults.Value.MaxRequestBodyBytes);

        var urls = ExplicitUrls(builder.Configuration);
        var appPort = builder.Configuration["APP_PORT"];
        if (urls is null && !string.IsNullOrWhiteSpace(appPort))
        {
            urls = ushort.TryParse(appPort, out var port) && port != 0
                ? $"http://127.0.0.1:{port}"
                : throw new InvalidOperationException($"APP_PORT must be a TCP port number between 1 and 65535, not '{appPort}'.");
        }

        if (urls is not null)
        {
            // A source added last wins over everything before it; the web host reads "urls" when it starts.
            builder.Configuration.AddInMemoryCollection([new(WebHostDefaults.ServerUrlsKey, urls)]);
        }
    }

    /// <summary>
    /// The <c>urls</c> setting from a source other than an appsettings file: the environment, the command
    /// line or code. Needed because the web application builder adds appsettings after the
    /// <c>ASPNETCORE_</c> environment variables, so a <c>Urls</c> in appsettings would otherwise override
    /// <c>ASPNETCORE_URLS</c>.
    /// </summary>
    private static string? ExplicitUrls(IConfiguration configuration)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return null;
        }

        foreach (var provider in root.Providers.Reverse())
        {
            if (provider is not FileConfigurationProvider && provider.TryGet(WebHostDefaults.ServerUrlsKey, out var urls) && !string.IsNullOrWhiteSpace(urls))
            {
                return urls;
            }
        }

        return null;
    }

    private static void ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        // Nothing in the process reads spans, metrics or log records: without an exporter, recording them was pure
        // cost on every request (about 10% of the tools service's CPU per call). Activity.Current, and with it trace
        // ids in logs and traceparent to the sidecar, does not depend on this.
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return;
        }

        builder.Services.AddOpenTelemetry()
            // From configuration rather than the options: the logger provider builds its resource when the
            // first logger is created, before ValidateOnStart gets to report an invalid app id clearly.
            .ConfigureResource(resource => resource.AddDetector(services =>
                new ServiceNameDetector(AppIdFrom(services.GetRequiredService<IConfiguration>()))))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddSource("AgentVerse.*"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter("Microsoft.AspNetCore.Server.Kestrel")
                .AddMeter("Microsoft.AspNetCore.Diagnostics")
                .AddMeter("Microsoft.AspNetCore.RateLimiting")
                .AddMeter("System.Net.NameResolution")
                .AddMeter("System.Runtime")
                .AddMeter("AgentVerse.*"))
            .WithLogging(configureBuilder: null, configureOptions: options =>
            {
                options.IncludeScopes = true;
                options.IncludeFormattedMessage = true;
            })
            // Reads the standard OTEL_EXPORTER_OTLP_* settings from the app's configuration.
            .UseOtlpExporter();
    }

    private static void AddDefaultHealthChecks(this IHostApplicationBuilder builder) =>
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag])
            .AddCheck<DaprSidecarHealthCheck>(DaprSidecarHealthCheck.Name, HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(5))
            .AddCheck<StartupLoaderService>(StartupLoaderService.Name, HealthStatus.Unhealthy, [ReadyTag]);

    /// <summary>The Dapr app id: <c>APP_ID</c>, set by Dapr and the launcher, wins over <c>AgentVerse:AppId</c>.</summary>
    private static string? AppIdFrom(IConfiguration configuration) =>
        configuration["APP_ID"] is { Length: > 0 } appId ? appId : configuration[$"{ServiceDefaultsOptions.SectionName}:AppId"];

    private sealed class ServiceNameDetector(string? appId) : IResourceDetector
    {
        public Resource Detect() => string.IsNullOrEmpty(appId) ? Resource.Empty : ResourceBuilder.CreateEmpty().AddService(appId).Build();
    }
}

using Dapr;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentVerse.ServiceDefaults.Secrets;

/// <summary>Something a service loads through Dapr before it is ready, such as its keys.</summary>
public interface IStartupLoader
{
    /// <summary>Loads; throws with a message naming what is missing.</summary>
    Task LoadAsync(CancellationToken cancellationToken);
}

/// <summary>Registration of <see cref="IStartupLoader"/>s.</summary>
public static class StartupLoading
{
    /// <summary>Runs <typeparamref name="TLoader"/> (a registered singleton) when the service starts; the service is ready once it has.</summary>
    public static IServiceCollection AddStartupLoader<TLoader>(this IServiceCollection services) where TLoader : class, IStartupLoader
    {
        services.AddSingleton<IStartupLoader>(sp => sp.GetRequiredService<TLoader>());
        return services;
    }
}

/// <summary>
/// Runs every <see cref="IStartupLoader"/> once the service is up. While the sidecar cannot be reached (it may start
/// after the app, as under Kubernetes) it tries again, and readiness stays unhealthy; once the sidecar answers, a
/// loader that fails (a missing secret) stops the service with exit code 1 and an error naming what is missing,
/// instead of a service that starts half-configured and answers 500 per request. Liveness does not wait for it.
/// </summary>
internal sealed class StartupLoaderService(
    IEnumerable<IStartupLoader> loaders,
    IHostApplicationLifetime lifetime,
    ILogger<StartupLoaderService> logger) : BackgroundService, IHealthCheck
{
    public const string Name = "startup";

    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private volatile bool _loaded;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pending = loaders.ToList();
        var delay = TimeSpan.FromMilliseconds(100);
        while (pending.Count > 0)
        {
            try
            {
                await pending[0].LoadAsync(stoppingToken);
                pending.RemoveAt(0);
                continue;
            }
            catch (Exception e) when (IsSidecarUnreachable(e) && !stoppingToken.IsCancellationRequested)
            {
                logger.LogInformation("The Dapr sidecar cannot be reached yet ({Reason}); trying again in {Delay}", e.Message, delay);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogCritical(e, "Cannot start: {Reason}", e.Message);
                Environment.ExitCode = 1;
                // Stopping a host that is still starting makes its start throw, an unhandled crash (exit 134) instead of exit 1.
                await WhenStartedAsync(stoppingToken);
                lifetime.StopApplication();
                return;
            }

            await Task.Delay(delay, stoppingToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }

        _loaded = true;
    }

    private async Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_loaded
            ? HealthCheckResult.Healthy("Start-up dependencies are loaded.")
            : new HealthCheckResult(context.Registration.FailureStatus, "Start-up dependencies (secrets) are not loaded yet."));

    private static bool IsSidecarUnreachable(Exception e) =>
        (e as DaprException ?? e.InnerException as DaprException)?.InnerException is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded };
}

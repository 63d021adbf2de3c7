using System.Globalization;
using AgentVerse.Cli.RunFiles;
using AgentVerse.Runtime;
using AgentVerse.Runtime.Components;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Cli.Launch;

/// <summary>How long to wait and what to do once everything is up.</summary>
internal sealed record RunSettings
{
    /// <summary>How long an app may take from start to healthy before the run fails.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long apps get between SIGTERM and SIGKILL.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Called once every app is healthy, e.g. for <c>up</c> to say where the gateway listens and what to try.</summary>
    public Action<IReadOnlyList<AppStatus>, RunConsole>? OnReady { get; init; }
}

/// <summary>
/// <c>dapr run -f</c> for one run file: check ports, start one sidecar per app in the local runtime,
/// start each app's command with the Dapr environment, wait until every app is healthy, then keep
/// running until Ctrl-C/SIGTERM or until an app exits on its own (which fails the run).
/// </summary>
internal sealed class MultiAppRun(RunFile file, RunConsole console, ILoggerFactory loggerFactory, RunSettings settings)
{
    /// <summary>Runs to the end; returns the process exit code (0 after a requested stop).</summary>
    public async Task<int> RunAsync(CancellationToken stopRequested, CancellationToken killRequested)
    {
        if (!CheckFixedPorts())
        {
            return 1;
        }

        var statuses = AssignPorts();
        LocalRuntime runtime;
        try
        {
            runtime = await LocalRuntime.StartAsync(statuses.Select(SidecarOptionsFor).ToList(), loggerFactory, stopRequested);
        }
        catch (ComponentLoadException e)
        {
            console.Fail($"cannot load resources: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (stopRequested.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Kestrel reports a port taken between the check and the bind as an IOException; any other
            // start failure is as fatal, and a message beats a stack trace.
            console.Fail($"cannot start the sidecars: {e.Message}");
            return 1;
        }

        await using (runtime)
        {
            foreach (var status in statuses)
            {
                var sidecar = runtime.Sidecars.Single(s => s.AppId == status.App.AppId);
                status.Sidecar = sidecar;
                status.DaprHttpPort = sidecar.HttpPort;
                status.DaprGrpcPort = sidecar.GrpcPort;
            }

            // daprd exits on POST /v1.0/shutdown; a run of sidecars in one process stops as a whole, gracefully.
            using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(stopRequested);
            void OnShutdownRequested(string appId)
            {
                console.Info($"app '{appId}' asked its sidecar to shut down (POST /v1.0/shutdown)");
                // Off the request thread: stopping waits for the apps, which may be mid-call to this sidecar.
                // The run may already have ended (and disposed the source) when this runs; then there is nothing to stop.
                _ = Task.Run(() =>
                {
                    try
                    {
                        shutdown.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                    }
                });
            }

            runtime.ShutdownRequested += OnShutdownRequested;
            try
            {
                return await RunAppsAsync(statuses, shutdown.Token, killRequested);
            }
            finally
            {
                runtime.ShutdownRequested -= OnShutdownRequested;
                await Task.WhenAll(statuses.Where(s => s.Process is not null).Select(s => s.Process!.DisposeAsync().AsTask()));
            }
        }
    }

    private async Task<int> RunAppsAsync(List<AppStatus> statuses, CancellationToken stopRequested, CancellationToken killRequested)
    {
        foreach (var status in statuses.Where(s => s.App.Command.Count > 0))
        {
            try
            {
                status.Process = AppProcess.Start(status.App, EnvironmentFor(status), console);
                status.State = AppState.Starting;
            }
            catch (InvalidOperationException e)
            {
                console.Fail($"app '{status.App.AppId}': {e.Message}");
                await StopAllAsync(statuses, killRequested);
                return 1;
            }
        }

        // A run of sidecars only has no process that could exit; it ends when stopped.
        var processes = statuses.Where(s => s.Process is not null).Select(s => (Task)s.Process!.Exited).ToList();
        var exited = processes.Count > 0 ? Task.WhenAny(processes) : new TaskCompletionSource().Task;
        var failure = await WaitUntilReadyAsync(statuses, exited, stopRequested);
        if (failure is null && !stopRequested.IsCancellationRequested)
        {
            settings.OnReady?.Invoke(statuses, console);
            var stopped = Task.Delay(Timeout.Infinite, stopRequested);
            if (await Task.WhenAny(exited, stopped) == exited)
            {
                failure = EarlyExitMessage(statuses);
            }
        }

        if (failure is not null)
        {
            console.Fail(failure);
        }
        else
        {
            console.Info("stopping apps");
        }

        await StopAllAsync(statuses, killRequested);
        return failure is null ? 0 : 1;
    }

    private async Task<string?> WaitUntilReadyAsync(List<AppStatus> statuses, Task exited, CancellationToken stopRequested)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopRequested);
        timeout.CancelAfter(settings.ReadyTimeout);
        var ready = Task.WhenAll(statuses.Select(s => WaitForAppAsync(s, timeout.Token)));

        Task all = Task.WhenAny(ready, exited);
        if (console.Interactive)
        {
            console.Hold();
            try
            {
                await StatusTable.ShowWhileAsync(statuses, all);
            }
            finally
            {
                console.Release();
            }
        }

        await all;
        if (exited.IsCompleted)
        {
            return EarlyExitMessage(statuses);
        }

        try
        {
            await ready;
        }
        catch (OperationCanceledException) when (stopRequested.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            var waiting = statuses.Where(s => s.State != AppState.Ready).Select(s => $"'{s.App.AppId}' ({s.Detail})");
            return $"not healthy after {settings.ReadyTimeout.TotalSeconds:0} s: {string.Join(", ", waiting)}";
        }
        catch (Exception e)
        {
            return $"waiting for the apps failed: {e.Message}";
        }

        if (!console.Interactive)
        {
            foreach (var s in statuses)
            {
                console.Info(s.App.AppPort is { } port
                    ? $"{s.App.AppId} ready at http://{s.App.AppChannelAddress}:{port} (sidecar http {s.DaprHttpPort}, grpc {s.DaprGrpcPort})"
                    : $"{s.App.AppId} ready, no app port (sidecar http {s.DaprHttpPort}, grpc {s.DaprGrpcPort})");
            }
        }

        console.Info($"all {statuses.Count} app(s) ready; Ctrl-C stops them");
        return null;
    }

    private static async Task WaitForAppAsync(AppStatus status, CancellationToken cancellationToken)
    {
        status.State = AppState.WaitingForApp;
        status.Detail = status.App.AppPort is { } port ? $"waiting for port {port}" : "starting sidecar";
        await status.Sidecar!.AppReady.WaitAsync(cancellationToken);

        if (status.App.EnableAppHealthCheck && status.App.AppPort is { } healthPort)
        {
            status.Detail = $"waiting for {status.App.AppHealthCheckPath}";
            var url = new Uri($"http://{status.App.AppChannelAddress}:{healthPort}{status.App.AppHealthCheckPath}");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(url, cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }

                    status.Detail = $"{status.App.AppHealthCheckPath} answered {(int)response.StatusCode}";
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The probe's own timeout; try again.
                }

                await Task.Delay(500, cancellationToken);
            }
        }

        status.State = AppState.Ready;
        status.Detail = "ready";
    }

    private static string EarlyExitMessage(List<AppStatus> statuses)
    {
        var dead = statuses.First(s => s.Process is { Exited.IsCompleted: true });
        var code = dead.Process!.Exited.Result;
        dead.State = AppState.Exited;
        dead.Detail = $"exited with code {code}";
        return $"app '{dead.App.AppId}' exited with code {code} before the run was stopped; stopping the other apps";
    }

    private async Task StopAllAsync(List<AppStatus> statuses, CancellationToken killRequested)
    {
        var running = statuses.Where(s => s.Process is { Exited.IsCompleted: false }).Select(s => s.Process!).ToList();
        var stopping = Task.WhenAll(running.Select(p => p.StopAsync(settings.StopGrace)));
        try
        {
            await stopping.WaitAsync(killRequested);
        }
        catch (OperationCanceledException)
        {
            // A second Ctrl-C: no more grace.
            running.ForEach(p => p.KillTree());
            await stopping;
        }
    }

    private bool CheckFixedPorts()
    {
        foreach (var app in file.Apps)
        {
            foreach (var (port, what) in RunFileParser.FixedPorts(app))
            {
                if (!LoopbackPorts.IsFree(port))
                {
                    console.Fail($"app '{app.AppId}': {what} {port} is already in use (free the port or change it in {file.Path})");
                    return false;
                }
            }
        }

        return true;
    }

    private List<AppStatus> AssignPorts()
    {
        var taken = file.Apps.SelectMany(RunFileParser.FixedPorts).Select(p => p.Port).ToHashSet();
        return file.Apps.Select(app => new AppStatus(app)
        {
            DaprHttpPort = app.DaprHttpPort > 0 ? app.DaprHttpPort : Ports.PickFree(taken),
            DaprGrpcPort = app.DaprGrpcPort > 0 ? app.DaprGrpcPort : Ports.PickFree(taken),
        }).ToList();
    }

    private static SidecarOptions SidecarOptionsFor(AppStatus status) => new()
    {
        AppId = status.App.AppId,
        HttpPort = status.DaprHttpPort,
        GrpcPort = status.DaprGrpcPort,
        AppPort = status.App.AppPort,
        AppChannelAddress = status.App.AppChannelAddress,
        ResourcesPaths = status.App.ResourcesPaths,
        ApiToken = status.App.DaprApiToken,
        AppApiToken = status.App.AppApiToken,
        MaxBodySize = status.App.MaxBodySize,
    };

    /// <summary>What <c>dapr run</c> gives an app (dapr/cli pkg/standalone/run.go getEnv), then the file's env, which wins.</summary>
    internal static Dictionary<string, string> EnvironmentFor(AppStatus status)
    {
        var app = status.App;
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["APP_ID"] = app.AppId,
            ["APP_CHANNEL_ADDRESS"] = app.AppChannelAddress,
            ["APP_PROTOCOL"] = app.AppProtocol,
            ["DAPR_HTTP_PORT"] = status.DaprHttpPort.ToString(CultureInfo.InvariantCulture),
            ["DAPR_GRPC_PORT"] = status.DaprGrpcPort.ToString(CultureInfo.InvariantCulture),
        };
        if (app.AppPort is { } port)
        {
            env["APP_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        }

        // The app needs the token to call its sidecar (and to check calls from it), so it gets what the sidecar got.
        if (app.DaprApiToken is { } apiToken)
        {
            env["DAPR_API_TOKEN"] = apiToken;
        }

        if (app.AppApiToken is { } appToken)
        {
            env["APP_API_TOKEN"] = appToken;
        }

        foreach (var (key, value) in app.Env)
        {
            env[key] = value;
        }

        return env;
    }
}

/// <summary>The state of one app during a run, shown in the status table.</summary>
internal sealed class AppStatus(RunFileApp app)
{
    public RunFileApp App { get; } = app;

    public int DaprHttpPort { get; set; }

    public int DaprGrpcPort { get; set; }

    public ISidecar? Sidecar { get; set; }

    public AppProcess? Process { get; set; }

    public AppState State { get; set; } = AppState.Pending;

    public string Detail { get; set; } = "starting sidecar";
}

/// <summary>Where an app is on its way to healthy.</summary>
internal enum AppState
{
    Pending,
    Starting,
    WaitingForApp,
    Ready,
    Exited,
}

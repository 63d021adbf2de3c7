using System.Collections.Concurrent;
using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.Sidecar.Apis;
using AgentVerse.Runtime.Workflow;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>
/// One app's sidecar: the Dapr HTTP API on <see cref="HttpPort"/>, the gRPC port reserved for the
/// workflow protocol, and the app channel used for invocation and pub/sub delivery.
/// </summary>
internal sealed class Sidecar : ISidecar, IAsyncDisposable
{
    private readonly TaskCompletionSource _appReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly TaskHubSidecarService _taskHub;
    private WebApplication? _web;
    private Task? _appWatcher;

    public Sidecar(SidecarOptions options, LocalRuntime runtime, ComponentRegistry registry, ILoggerFactory loggerFactory)
    {
        Options = options;
        Runtime = runtime;
        _loggerFactory = loggerFactory;
        Logger = loggerFactory.CreateLogger($"AgentVerse.Runtime.Sidecar.{options.AppId}");
        var free = new Queue<int>(LoopbackPorts.Take((options.HttpPort == 0 ? 1 : 0) + (options.GrpcPort == 0 ? 1 : 0)));
        HttpPort = options.HttpPort == 0 ? free.Dequeue() : options.HttpPort;
        GrpcPort = options.GrpcPort == 0 ? free.Dequeue() : options.GrpcPort;
        Components = [.. registry.For(options.AppId, options.ResourcesPaths)];
        StateStores = Components.Where(c => c.StateStore is not null)
            .ToDictionary(c => c.Definition.Name, c => new StateStoreBinding(c, options.AppId), StringComparer.Ordinal);
        PubSubs = Components.Where(c => c.PubSub is not null).ToDictionary(c => c.Definition.Name, StringComparer.Ordinal);
        SecretStores = Components.Where(c => c.SecretStore is not null).ToDictionary(c => c.Definition.Name, StringComparer.Ordinal);
        App = options.AppPort is int port ? new AppChannel(options.AppChannelAddress, port, options.AppApiToken) : null;
        Subscriptions = new SubscriptionManager(this, [.. registry.SubscriptionsFor(options.AppId, options.ResourcesPaths)]);
        Workflows = new WorkflowEngine(options.AppId, StateStores.Values, loggerFactory.CreateLogger($"AgentVerse.Runtime.Workflow.{options.AppId}"),
            TimeProvider.System, options.WorkflowWorkItemTimeout, _stopping.Token);
        _taskHub = new TaskHubSidecarService(Workflows, options.ApiToken, Logger);
    }

    public SidecarOptions Options { get; }
    public LocalRuntime Runtime { get; }
    public ILogger Logger { get; }
    public string AppId => Options.AppId;
    public int HttpPort { get; }
    public int GrpcPort { get; }
    public Task AppReady => _appReady.Task;
    public IReadOnlyList<LoadedComponent> Components { get; }
    public IReadOnlyDictionary<string, StateStoreBinding> StateStores { get; }
    public IReadOnlyDictionary<string, LoadedComponent> PubSubs { get; }
    public IReadOnlyDictionary<string, LoadedComponent> SecretStores { get; }
    public AppChannel? App { get; }
    public SubscriptionManager Subscriptions { get; }
    public WorkflowEngine Workflows { get; }
    public ConcurrentDictionary<string, string> ExtendedMetadata { get; } = new(StringComparer.Ordinal);
    public CancellationToken Stopping => _stopping.Token;
    public ILoggerFactory LoggerFactory => _loggerFactory;

    /// <summary>The actor runtime, once the app reported actor types in <c>GET /dapr/config</c>.</summary>
    public Actors.ActorHost? Actors { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = Options.MaxBodySize;
            // grpc-go (daprd) sets no stream limit; workflow clients park many WaitFor* calls on one connection.
            kestrel.Limits.Http2.MaxStreamsPerConnection = 10_000;
            kestrel.ListenLocalhost(HttpPort, listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
            // daprd's gRPC API port: HTTP/2 cleartext only (the workflow protocol is served here).
            kestrel.ListenLocalhost(GrpcPort, listen => listen.Protocols = HttpProtocols.Http2);
        });
        var web = builder.Build();
        web.Use(GrpcPortGuard);
        web.Use(ReportUnhandledAsync);
        web.Use(new ApiTokenCheck(Options.ApiToken).InvokeAsync);
        web.MapHealthApi(this);
        web.MapMetadataApi(this);
        web.MapStateApi(this);
        web.MapPublishApi(this);
        web.MapSecretsApi(this);
        web.MapActorsApi(this);
        web.MapWorkflowApi(this);
        web.MapInvokeApi(this);

        try
        {
            await web.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await web.DisposeAsync();
            throw new InvalidOperationException($"app '{AppId}': cannot listen on sidecar port {HttpPort} or {GrpcPort}: {e.Message}", e);
        }
        _web = web;
        _appWatcher = WatchAppAsync(_stopping.Token);
        // Resume unfinished workflows in the background; their work waits for a worker to connect anyway.
        _ = Workflows.StartAsync().ContinueWith(t => Logger.LogError(t.Exception, "Sidecar {AppId} cannot resume its workflows", AppId),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    // The gRPC port serves the workflow protocol; anything else there gets a gRPC UNIMPLEMENTED.
    private Task GrpcPortGuard(HttpContext context, Func<Task> next)
    {
        if (context.Connection.LocalPort != GrpcPort)
        {
            return next();
        }
        return _taskHub.HandleAsync(context);
    }

    // A bug must surface as a logged, well-formed error, never as a bare 500 or a dropped connection.
    private async Task ReportUnhandledAsync(HttpContext context, Func<Task> next)
    {
        try
        {
            await next();
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            Logger.LogError(e, "Unhandled error in sidecar {AppId} for {Method} {Path}", AppId, context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await new DaprError(500, "ERR_INTERNAL", e.Message).WriteAsync(context.Response);
            }
        }
    }

    // daprd waits for the app port to open, then reads its subscriptions; until then /v1.0/healthz is not ready.
    private async Task WatchAppAsync(CancellationToken stopping)
    {
        try
        {
            if (App is not null)
            {
                while (!await App.IsListeningAsync(stopping))
                {
                    await Task.Delay(50, stopping);
                }
                Logger.LogInformation("App {AppId} is listening on port {AppPort}", AppId, App.Port);
            }
            await Subscriptions.StartAsync(stopping);
            Actors = await AgentVerse.Runtime.Actors.ActorHost.StartAsync(this, TimeProvider.System, stopping);
            _appReady.TrySetResult();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            _appReady.TrySetCanceled(stopping);
        }
        catch (Exception e)
        {
            Logger.LogError(e, "Sidecar {AppId} failed to connect to its app", AppId);
            _appReady.TrySetException(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_appWatcher is not null)
        {
            await _appWatcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await Subscriptions.DisposeAsync();
        if (Actors is not null)
        {
            await Actors.DisposeAsync();
        }
        await Workflows.DisposeAsync();
        if (_web is not null)
        {
            await _web.StopAsync(CancellationToken.None);
            await _web.DisposeAsync();
        }
        App?.Dispose();
        _stopping.Dispose();
    }
}

using System.Collections.Concurrent;
using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.Sidecar.Apis;
using AgentVerse.Runtime.Workflow;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>
/// One app's sidecar: the Dapr HTTP API on <see cref="HttpPort"/>, the Dapr gRPC API and the workflow protocol on
/// <see cref="GrpcPort"/>, and the app channel used for invocation and pub/sub delivery.
/// </summary>
internal sealed class Sidecar : ISidecar, IAsyncDisposable
{
    private readonly TaskCompletionSource _appReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILoggerFactory _loggerFactory;
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
            // daprd's gRPC API port: HTTP/2 cleartext only, as the SDKs connect (h2c with prior knowledge).
            kestrel.ListenLocalhost(GrpcPort, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(grpc =>
        {
            // daprd's --max-body-size bounds gRPC messages too; every workflow turn carries the full history.
            grpc.MaxReceiveMessageSize = (int)Math.Min(Options.MaxBodySize, int.MaxValue);
            grpc.MaxSendMessageSize = null;
            grpc.Interceptors.Add<ApiTokenInterceptor>();
        });
        builder.Services.AddSingleton(new ApiTokenInterceptor(Options.ApiToken));
        builder.Services.AddSingleton(new DaprGrpcApi(this));
        builder.Services.AddSingleton(new TaskHubGrpcService(Workflows, Logger));
        var web = builder.Build();
        web.Use(CleanPath);
        web.UseRouting();
        web.Use(SeparatePorts);
        web.Use(ReportUnhandledAsync);
        // The gRPC port checks the token in ApiTokenInterceptor, with gRPC's status codes.
        web.UseWhen(context => context.Connection.LocalPort == HttpPort, http => http.Use(new ApiTokenCheck(Options.ApiToken).InvokeAsync));
        web.MapGrpcService<DaprGrpcApi>();
        web.MapGrpcService<TaskHubGrpcService>();
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

    // As in daprd, each port serves its own API: the gRPC port answers anything but a gRPC method with UNIMPLEMENTED
    // (the SDK probes for methods and falls back on it), and gRPC paths on the HTTP port are unmatched paths there.
    private Task SeparatePorts(HttpContext context, Func<Task> next)
    {
        var grpcMethod = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null;
        if (context.Connection.LocalPort == GrpcPort)
        {
            if (grpcMethod)
            {
                return next();
            }
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "12";
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString($"unknown service or method {context.Request.Path}");
            return Task.CompletedTask;
        }
        return grpcMethod ? InvokeApi.FallbackAsync(context, this) : next();
    }

    // daprd's CleanPathMiddleware and StripSlashesMiddleware: "//v1.0/actors/..." (what the actors SDK sends when its
    // endpoint ends with a slash) and "/v1.0/healthz/" route as "/v1.0/actors/..." and "/v1.0/healthz". The raw
    // target is kept, so invocation still forwards the path exactly as the caller encoded it.
    private Task CleanPath(HttpContext context, Func<Task> next)
    {
        var path = context.Request.Path.Value;
        if (context.Connection.LocalPort == HttpPort && path is { Length: > 1 }
            && (path.Contains("//", StringComparison.Ordinal) || path[^1] == '/'))
        {
            var clean = string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));
            context.Request.Path = "/" + clean;
        }
        return next();
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

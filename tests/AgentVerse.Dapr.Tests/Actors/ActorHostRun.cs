using AgentVerse.Dapr.Actors;
using AgentVerse.Runtime;
using AgentVerse.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Dapr.Tests.Actors;

/// <summary>A real Kestrel app using <c>AddActors</c>/<c>MapActorsHandlers</c> behind a real <see cref="LocalRuntime"/> sidecar.</summary>
public sealed class ActorHostRun : IAsyncDisposable
{
    private ActorHostRun(WebApplication app, LocalRuntime runtime, string directory, int appPort)
    {
        App = app;
        Runtime = runtime;
        Directory = directory;
        AppPort = appPort;
        Sidecar = new HttpClient { BaseAddress = SidecarEndpoint };
        AppClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{appPort}/") };
    }

    public WebApplication App { get; }
    public LocalRuntime Runtime { get; }
    public string Directory { get; }
    public int AppPort { get; }
    public Uri SidecarEndpoint => new($"http://127.0.0.1:{Runtime.Sidecars[0].HttpPort}/");
    public HttpClient Sidecar { get; }
    public HttpClient AppClient { get; }
    public ActorProxyOptions ProxyOptions => new() { HttpEndpoint = SidecarEndpoint };

    public static async Task<ActorHostRun> StartAsync(Action<ActorRuntimeOptions> configure, string appId = "actors", string? resources = null)
    {
        // The sidecar port is picked before the app starts (the app must know it); another process may grab it meanwhile.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(configure, appId, resources);
            }
            catch (InvalidOperationException e) when (attempt < 5 && e.Message.Contains("cannot listen", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task<ActorHostRun> TryStartAsync(Action<ActorRuntimeOptions> configure, string appId, string? resources)
    {
        var sidecarPort = LoopbackPorts.Take();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddActors(options =>
        {
            options.DaprHttpEndpoint = new Uri($"http://127.0.0.1:{sidecarPort}/");
            configure(options);
        });
        var app = builder.Build();
        app.MapActorsHandlers();
        await app.StartAsync();
        var appPort = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        var directory = await ResourcesDirectory.CreateAsync(resources ?? ComponentYaml.InMemoryActorStore);
        LocalRuntime runtime;
        try
        {
            runtime = await LocalRuntime.StartAsync(
                [new SidecarOptions { AppId = appId, AppPort = appPort, HttpPort = sidecarPort, ResourcesPaths = [directory] }],
                NullLoggerFactory.Instance, CancellationToken.None);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        await runtime.Sidecars[0].AppReady.WaitAsync(TimeSpan.FromSeconds(15));
        return new ActorHostRun(app, runtime, directory, appPort);
    }

    public static Task EventuallyAsync(Func<bool> condition, double seconds = 10) =>
        EventuallyAsync(() => Task.FromResult(condition()), seconds);

    public static async Task EventuallyAsync(Func<Task<bool>> condition, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {seconds}s");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Sidecar.Dispose();
        AppClient.Dispose();
        await Runtime.DisposeAsync();
        await App.StopAsync();
        await App.DisposeAsync();
        TempDirectory.Delete(Directory);
    }
}

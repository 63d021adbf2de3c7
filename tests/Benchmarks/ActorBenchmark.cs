using System.Globalization;
using System.Net.Http.Headers;
using AgentVerse.Runtime;
using AgentVerse.Testing;
using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Actors.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static AgentVerse.Benchmarks.BenchmarkSupport;

namespace AgentVerse.Benchmarks;

public interface IBenchActor : IActor
{
    Task<int> PingAsync(int value);
}

/// <summary>The benchmarked actor: echoes its argument, no state, so the figures measure the call path.</summary>
public sealed class BenchActor(ActorHost host) : Actor(host), IBenchActor
{
    public Task<int> PingAsync(int value) => Task.FromResult(value);
}

/// <summary>
/// Actor calls through the sidecar (the SDK's proxy → sidecar actor API → turn lock → app callback) against the
/// same app callback called directly, both at a fixed offered rate, in one process.
/// </summary>
internal static class ActorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Option(args, "--rate", 1000);
        var seconds = Option(args, "--seconds", 10);
        var actorCount = Option(args, "--actors", 100);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddActors(o => o.Actors.RegisterActor<BenchActor>());
        await using var app = builder.Build();
        app.MapActorsHandlers();
        await app.StartAsync();
        var appPort = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        var resources = await ResourcesDirectory.CreateAsync(ComponentYaml.InMemoryActorStore);
        await using var runtime = await LocalRuntime.StartAsync(
            [new SidecarOptions { AppId = "bench", AppPort = appPort, ResourcesPaths = [resources] }], NullLoggerFactory.Instance, CancellationToken.None);
        await runtime["bench"].AppReady.WaitAsync(TimeSpan.FromSeconds(30));

        var proxyOptions = new ActorProxyOptions { HttpEndpoint = $"http://127.0.0.1:{runtime["bench"].HttpPort}" };
        var proxies = Enumerable.Range(0, actorCount)
            .Select(i => ActorProxy.Create<IBenchActor>(new ActorId("bench-" + i.ToString(CultureInfo.InvariantCulture)), nameof(BenchActor), proxyOptions))
            .ToArray();
        using var direct = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{appPort}/"),
        };
        async Task DirectCall(int i)
        {
            using var content = new StringContent(i.ToString(CultureInfo.InvariantCulture), MediaTypeHeaderValue.Parse("application/json"));
            using var response = await direct.PutAsync(new Uri($"actors/BenchActor/bench-{i % actorCount}/method/PingAsync", UriKind.Relative), content);
            response.EnsureSuccessStatusCode();
        }
        async Task ActorCall(int i)
        {
            if (await proxies[i % actorCount].PingAsync(i) != i)
            {
                throw new InvalidOperationException("wrong echo");
            }
        }

        Console.WriteLine($"actors: {actorCount} actors, offered {rate} calls/s for {seconds} s (open loop), {Environment.ProcessorCount} cores");
        // Warm-up: JIT, connection pools, activations.
        await OpenLoopLoad.RunAsync("warm-up direct", rate, TimeSpan.FromSeconds(2), DirectCall);
        await OpenLoopLoad.RunAsync("warm-up actor", rate, TimeSpan.FromSeconds(2), ActorCall);

        var gcBefore = GcCounts();
        var baseline = await OpenLoopLoad.RunAsync("direct app callback", rate, TimeSpan.FromSeconds(seconds), DirectCall);
        Console.WriteLine(baseline);
        var gcMiddle = GcCounts();
        var actors = await OpenLoopLoad.RunAsync("actor call via sidecar", rate, TimeSpan.FromSeconds(seconds), ActorCall);
        Console.WriteLine(actors);
        var gcAfter = GcCounts();
        Console.WriteLine($"GCs (gen0/gen1/gen2): direct {gcMiddle.Gen0 - gcBefore.Gen0}/{gcMiddle.Gen1 - gcBefore.Gen1}/{gcMiddle.Gen2 - gcBefore.Gen2}, " +
            $"actors {gcAfter.Gen0 - gcMiddle.Gen0}/{gcAfter.Gen1 - gcMiddle.Gen1}/{gcAfter.Gen2 - gcMiddle.Gen2}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sidecar overhead: p50 +{actors.P50 - baseline.P50:F2} ms, p99 +{actors.P99 - baseline.P99:F2} ms; target p99 <= 5 ms: {(actors.P99 <= 5 ? "met" : "NOT met")}"));

        TempDirectory.Delete(resources);
        return 0;
    }

    private static (int Gen0, int Gen1, int Gen2) GcCounts() => (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
}

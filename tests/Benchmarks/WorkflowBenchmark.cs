using System.Diagnostics;
using System.Globalization;
using AgentVerse.Runtime;
using AgentVerse.Testing;
using Dapr.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static AgentVerse.Benchmarks.BenchmarkSupport;

namespace AgentVerse.Benchmarks;

/// <summary>
/// Workflow throughput and start-to-completion latency on the local runtime with a SQLite actor state
/// store, driven by the official Dapr.Workflow worker and client over the sidecar's gRPC port:
/// a 5-activity fan-out and a 5-activity chain, each with a fixed number of workflows in flight.
/// </summary>
internal static class WorkflowBenchmark
{
    private const int Activities = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = Option(args, "--count", 1000);
        var concurrency = Option(args, "--concurrency", 100);
        var directory = await ResourcesDirectory.CreateAsync(ComponentYaml.SqliteActorStore);
        try
        {
            // AGENTVERSE_BENCH_LOGS=1 shows the runtime's warnings and errors (retries, redeliveries).
            using var logging = Environment.GetEnvironmentVariable("AGENTVERSE_BENCH_LOGS") == "1"
                ? LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning))
                : NullLoggerFactory.Instance;
            await using var runtime = await LocalRuntime.StartAsync([new SidecarOptions { AppId = "bench", ResourcesPaths = [directory] }],
                logging, CancellationToken.None);
            using var app = await StartAppAsync(runtime["bench"].GrpcPort);
            var client = app.Services.GetRequiredService<DaprWorkflowClient>();

            Console.WriteLine($"workflows on SQLite: {count} per kind, {concurrency} in flight, {Activities} activities each ({Environment.ProcessorCount} cores)");
            await MeasureAsync(client, "FanOut5", Math.Min(count, 50), concurrency, report: false);
            foreach (var kind in (string[])["FanOut5", "Chain5"])
            {
                await MeasureAsync(client, kind, count, concurrency, report: true);
            }
            await app.StopAsync();
            return 0;
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }

    private static async Task<IHost> StartAppAsync(int grpcPort)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection([new("DAPR_GRPC_ENDPOINT", $"http://127.0.0.1:{grpcPort}")]);
        builder.Services.AddDaprWorkflow(o =>
        {
            o.RegisterActivity<int, int>("Work", (_, n) => Task.FromResult(n + 1));
            o.RegisterWorkflow<int, int>("FanOut5", async (ctx, n) =>
                (await Task.WhenAll(Enumerable.Range(0, Activities).Select(i => ctx.CallActivityAsync<int>("Work", n + i)))).Sum());
            o.RegisterWorkflow<int, int>("Chain5", async (ctx, n) =>
            {
                for (var i = 0; i < Activities; i++)
                {
                    n = await ctx.CallActivityAsync<int>("Work", n);
                }
                return n;
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task MeasureAsync(DaprWorkflowClient client, string workflow, int count, int concurrency, bool report)
    {
        var latencies = new double[count];
        var next = -1;
        var failures = 0;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, count)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var watch = Stopwatch.StartNew();
                var id = await client.ScheduleNewWorkflowAsync(workflow, input: i);
                var state = await client.WaitForWorkflowCompletionAsync(id, getInputsAndOutputs: false);
                latencies[i] = watch.Elapsed.TotalMilliseconds;
                if (state.RuntimeStatus != WorkflowRuntimeStatus.Completed)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        total.Stop();
        if (!report)
        {
            return;
        }
        Array.Sort(latencies);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{workflow,-8} {count / total.Elapsed.TotalSeconds,8:F1} workflows/s   p50 {Percentile(latencies, 0.50),7:F1} ms   p95 {Percentile(latencies, 0.95),7:F1} ms   failed {failures}"));
    }
}

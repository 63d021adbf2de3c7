using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentVerse.Testing;
using static AgentVerse.Benchmarks.BenchmarkSupport;

namespace AgentVerse.Benchmarks;

/// <summary>
/// REST execution of the <c>calculator</c> tool straight to the tools service (no gateway): the built service as a
/// real process on one core (<see cref="OneCoreServiceLoad"/>), behind its sidecar, with a real token. Each call is
/// authenticated, validated against the schema, evaluated, checked against the output schema, recorded and
/// published (the record and event leave through the background writer in batches).
/// </summary>
internal static class ToolsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Option(args, "--rate", 2000);
        var seconds = Option(args, "--seconds", 10);
        var warmUp = Option(args, "--warmup", 20);
        var concurrency = Option(args, "--concurrency", 16);
        Console.WriteLine($"tools benchmark: POST /api/v1/tools/calculator/execute straight to the service on one core; warm-up {warmUp} s, open-loop {rate}/s for {seconds} s, then closed-loop with {concurrency} callers");

        OneCoreServiceLoad.PinThisProcess();
        await using var run = await ToolsRun.StartAsync(OneCoreServiceLoad.OneCoreSettings);
        var user = await run.NewUserAsync();
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = 256, UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{run.Tools.Port}/"), Timeout = TimeSpan.FromSeconds(30) };
        var body = Encoding.UTF8.GetBytes("""{"parameters":{"expression":"2 * (3 + 4) ^ 2 - sqrt(16) / max(1, 2)"}}""");
        var failures = 0;

        async Task CallAsync(int _)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/tools/calculator/execute") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK || !text.Contains("\"status\":\"success\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref failures);
                throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
            }
        }

        var (openLoop, closedLoop) = await OneCoreServiceLoad.RunAsync(run, CallAsync, rate, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(warmUp), concurrency);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"targets (>= 2000 calls/s, p99 <= 5 ms at {rate}/s): throughput {(closedLoop >= 2000 && openLoop.CallsPerSecond >= 0.98 * rate ? "MET" : "NOT MET")}, p99 {(openLoop.P99 <= 5 ? "MET" : "NOT MET")}; failures {failures}; load average {LoadAverage()}, {Environment.ProcessorCount} cores on the machine"));
        return 0;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentVerse.Testing;
using static AgentVerse.Benchmarks.BenchmarkSupport;

namespace AgentVerse.Benchmarks;

/// <summary>
/// Latency the gateway adds: the same authenticated GET sent straight to a service (which validates the token
/// itself) and through gateway + Dapr runtime (gateway validates, invokes through its sidecar, the service
/// validates again), open-loop at a fixed rate in one run, alternating short slices. Latency is measured from each
/// request's scheduled send time, so a stall counts against every request it delays (no coordinated omission).
/// </summary>
internal static class GatewayBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Option(args, "--rate", 1000);
        var seconds = Option(args, "--seconds", 20);
        var slice = Option(args, "--slice", 1);
        Console.WriteLine($"gateway benchmark: {rate} requests/s open-loop; {seconds} s per mode in alternating {slice}-second slices (direct, gateway, direct, ...)");

        await using var run = await GatewayRun.StartAsync(new Dictionary<string, string>
        {
            ["Gateway__RateLimits__PerUserBurst"] = "1000000",
            ["Gateway__RateLimits__PerUserRequestsPerSecond"] = "1000000",
            ["Gateway__RateLimits__PerIpRequests"] = "1000000",
            ["Logging__LogLevel__Default"] = "Error",
        });

        using var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = 512,
            UseProxy = false,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var token = await LoginAsync(client, run.Gateway.Port);

        var direct = new Uri($"http://127.0.0.1:{run.Echo.Port}/api/v1/{GatewayRun.EchoAppId}/ping");
        var viaGateway = new Uri($"http://127.0.0.1:{run.Gateway.Port}/api/v1/{GatewayRun.EchoAppId}/ping");

        Console.WriteLine("warming up ...");
        await LoadAsync(client, direct, token, rate / 2, 3);
        await LoadAsync(client, viaGateway, token, rate / 2, 3);

        // Alternating short slices: both modes see the same background load (this machine is shared), so the
        // difference is the gateway's, not the neighbours'.
        var directResults = new Results();
        var gatewayResults = new Results();
        var addedP50s = new List<double>();
        var gatewayCpu = TimeSpan.Zero;
        for (var elapsed = 0; elapsed < seconds; elapsed += slice)
        {
            var d = await LoadAsync(client, direct, token, rate, slice);
            var cpuBefore = run.Gateway.TotalProcessorTime;
            var g = await LoadAsync(client, viaGateway, token, rate, slice);
            gatewayCpu += run.Gateway.TotalProcessorTime - cpuBefore;
            directResults.Add(d);
            gatewayResults.Add(g);
            addedP50s.Add(g.Percentile(50) - d.Percentile(50));
        }

        Print("direct ", directResults);
        Print("gateway", gatewayResults);
        var addedP50 = gatewayResults.Percentile(50) - directResults.Percentile(50);
        var addedP99 = gatewayResults.Percentile(99) - directResults.Percentile(99);
        var medianSliceAdded = addedP50s.Order().ElementAt(addedP50s.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"added by gateway + runtime at {rate} requests/s: p50 {addedP50:F3} ms, p99 {addedP99:F3} ms; median over slice pairs of added p50 {medianSliceAdded:F3} ms"));
        var cpuPerRequest = gatewayCpu.TotalMicroseconds / gatewayResults.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gateway process CPU: {cpuPerRequest:F0} us per request (load-independent cost of the gateway itself; the sidecar hop is on top)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"targets: added p50 <= 0.5 ms {Met(addedP50 <= 0.5)}, added p99 <= 10 ms {Met(addedP99 <= 10)}, gateway CPU <= 200 us {Met(cpuPerRequest <= 200)} (load average {LoadAverage()}, {Environment.ProcessorCount} cores)"));
        return 0;
    }

    private static string Met(bool met) => met ? "MET" : "NOT MET";

    private static async Task<string> LoginAsync(HttpClient client, int gatewayPort)
    {
        var email = $"bench-{Guid.NewGuid():N}@example.com";
        const string password = "benchmark-password-42";
        var gateway = new Uri($"http://127.0.0.1:{gatewayPort}/");
        using var registered = await client.PostAsJsonAsync(new Uri(gateway, "api/auth/register"), new { email, password });
        registered.EnsureSuccessStatusCode();
        using var login = await client.PostAsJsonAsync(new Uri(gateway, "api/auth/login"), new { email, password });
        login.EnsureSuccessStatusCode();
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>Sends <paramref name="rate"/> requests per second for <paramref name="seconds"/>, each at its scheduled time, whatever the earlier ones are doing.</summary>
    private static async Task<Results> LoadAsync(HttpClient client, Uri uri, string token, int rate, int seconds)
    {
        var total = rate * seconds;
        var latencies = new double[total];
        var failures = 0;
        var tasks = new Task[total];
        var interval = Stopwatch.Frequency / (double)rate;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var scheduled = start + (long)(i * interval);
            while (Stopwatch.GetTimestamp() < scheduled)
            {
                var remaining = (scheduled - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
                if (remaining > 2)
                {
                    Thread.Sleep(1);
                }
                else
                {
                    Thread.SpinWait(20);
                }
            }

            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    using var response = await client.SendAsync(request);
                    await response.Content.LoadIntoBufferAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }

                latencies[index] = (Stopwatch.GetTimestamp() - scheduled) * 1000.0 / Stopwatch.Frequency;
            });
        }

        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new Results(latencies, failures, total / elapsed);
    }

    private static void Print(string label, Results results) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: n={results.Count} achieved={results.Throughput:F0}/s failures={results.Failures} p50={results.Percentile(50):F3} ms p90={results.Percentile(90):F3} ms p99={results.Percentile(99):F3} ms max={results.Percentile(100):F3} ms"));

    private sealed class Results
    {
        private readonly List<double> _latencies = [];

        public Results()
        {
        }

        public Results(double[] latencies, int failures, double throughput)
        {
            _latencies.AddRange(latencies);
            Failures = failures;
            Throughput = throughput;
        }

        public int Count => _latencies.Count;

        public int Failures { get; private set; }

        public double Throughput { get; private set; }

        public void Add(Results other)
        {
            _latencies.AddRange(other._latencies);
            Failures += other.Failures;
            Throughput = Throughput == 0 ? other.Throughput : (Throughput + other.Throughput) / 2;
        }

        public double Percentile(double p)
        {
            var sorted = _latencies.Order().ToArray();
            if (sorted.Length == 0)
            {
                return double.NaN;
            }

            var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
            return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
        }
    }
}

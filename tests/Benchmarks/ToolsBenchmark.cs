using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentVerse.Testing;

namespace AgentVerse.Benchmarks;

/// <summary>
/// REST execution of the <c>calculator</c> tool straight to the tools service (no gateway): the built service as a
/// real process pinned to one core (<c>DOTNET_PROCESSOR_COUNT=1</c> and <c>taskset</c> on every thread), behind
/// its sidecar, with a real token. Each call is authenticated, validated against the schema, evaluated, recorded
/// and published (the record and event leave through the background writer). Open-loop latency at a fixed rate,
/// then closed-loop throughput.
/// </summary>
internal static class ToolsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Option(args, "--rate", 2000);
        var seconds = Option(args, "--seconds", 10);
        var concurrency = Option(args, "--concurrency", 16);
        Console.WriteLine($"tools benchmark: POST /api/v1/tools/calculator/execute straight to the service on one core; open-loop {rate}/s for {seconds} s, then closed-loop with {concurrency} callers");

        await using var run = await ToolsRun.StartAsync(new Dictionary<string, string>
        {
            ["DOTNET_PROCESSOR_COUNT"] = "1",
            ["DOTNET_gcServer"] = "0",
            ["Logging__LogLevel__Default"] = "Error",
        });
        var pinned = PinToOneCore(run.Tools.Port);
        Console.WriteLine(pinned is { } pid ? $"tools service pid {pid} pinned to CPU 0 (all threads)" : "could not pin the tools service (taskset missing?); DOTNET_PROCESSOR_COUNT=1 only");

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

        await CallAsync(0);
        Console.WriteLine("warming up ...");
        await OpenLoopLoad.RunAsync("warm-up", rate / 2, TimeSpan.FromSeconds(3), CallAsync);

        var cpuBefore = run.Tools.TotalProcessorTime;
        var openLoop = await OpenLoopLoad.RunAsync($"open-loop {rate}/s", rate, TimeSpan.FromSeconds(seconds), CallAsync);
        var cpu = run.Tools.TotalProcessorTime - cpuBefore;
        Console.WriteLine(openLoop);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tools process CPU: {cpu.TotalMicroseconds / Math.Max(1, openLoop.Sent):F0} us per call ({cpu.TotalSeconds / openLoop.Seconds * 100:F0}% of one core)"));

        var (calls, closedSeconds, latencies) = await ClosedLoopAsync(CallAsync, concurrency, TimeSpan.FromSeconds(seconds));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"closed-loop x{concurrency}: {calls / closedSeconds:F0} calls/s  p50 {Percentile(latencies, 0.50):F2}  p99 {Percentile(latencies, 0.99):F2} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"targets (>= 2000 calls/s, p99 <= 5 ms at {rate}/s): throughput {(calls / closedSeconds >= 2000 && openLoop.CallsPerSecond >= 0.98 * rate ? "MET" : "NOT MET")}, p99 {(openLoop.P99 <= 5 ? "MET" : "NOT MET")}; failures {failures}; load average {LoadAverage()}, {Environment.ProcessorCount} cores on the machine"));
        return 0;
    }

    private static async Task<(int Calls, double Seconds, double[] Latencies)> ClosedLoopAsync(Func<int, Task> call, int concurrency, TimeSpan duration)
    {
        var latencies = new List<double>[concurrency];
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = [];
            while (stopwatch.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await call(worker);
                }
                catch (Exception e) when (e is HttpRequestException or InvalidOperationException)
                {
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return (all.Length, stopwatch.Elapsed.TotalSeconds, all);
    }

    /// <summary>Pins every thread of the tools process (found by its APP_PORT) to CPU 0.</summary>
    private static int? PinToOneCore(int appPort)
    {
        foreach (var directory in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
                var environment = File.ReadAllText(Path.Combine(directory, "environ")).Split('\0');
                if (commandLine.Contains("AgentVerse.Tools.dll", StringComparison.Ordinal)
                    && environment.Contains($"APP_PORT={appPort.ToString(CultureInfo.InvariantCulture)}"))
                {
                    using var taskset = Process.Start(new ProcessStartInfo("taskset", ["-a", "-p", "-c", "0", pid.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true });
                    taskset?.WaitForExit();
                    return taskset?.ExitCode == 0 ? pid : null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                // Another user's or a vanished process.
            }
        }

        return null;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }
}

using System.Globalization;
using AgentVerse.Testing;
using static AgentVerse.Benchmarks.BenchmarkSupport;

namespace AgentVerse.Benchmarks;

/// <summary>
/// Load on the tools service alone on CPU 0: the service process (all threads, <c>DOTNET_PROCESSOR_COUNT=1</c>) is
/// pinned there, and this process — the load generator and the sidecar runtime — and the gateway are pinned to CPU 1,
/// so neither takes the service's core. A warm-up at the full rate lets tiered compilation finish first (on one core
/// it promotes hot code only after pauses without new tier-0 code). An open loop on <c>/healthz</c> gives the
/// baseline of this machine; then an open loop measures the call's latency at the same rate and a closed loop the
/// throughput.
/// </summary>
internal static class OneCoreServiceLoad
{
    /// <summary>Settings for a tools service meant to run on one core.</summary>
    public static readonly IReadOnlyDictionary<string, string> OneCoreSettings = new Dictionary<string, string>
    {
        ["DOTNET_PROCESSOR_COUNT"] = "1",
        ["DOTNET_gcServer"] = "0",
        ["Logging__LogLevel__Default"] = "Error",
    };

    /// <summary>Pins this process to CPU 1 before anything starts, so the processes it starts inherit that.</summary>
    public static void PinThisProcess()
    {
        var pinned = Environment.ProcessorCount > 1 && PinToCpu(Environment.ProcessId, 1);
        Console.WriteLine(pinned ? "load generator, sidecar and gateway on CPU 1" : "could not pin the load generator (one core, or taskset missing)");
    }

    public static async Task<(LoadResult OpenLoop, double ClosedLoopCallsPerSecond)> RunAsync(
        ToolsRun run, Func<int, Task> call, int rate, TimeSpan duration, TimeSpan warmUp, int concurrency)
    {
        ArgumentNullException.ThrowIfNull(run);
        var pid = FindService("AgentVerse.Tools.dll", run.Tools.Port);
        Console.WriteLine(pid is { } p && PinToCpu(p, 0)
            ? $"tools service pid {p} pinned to CPU 0 (all threads)"
            : "could not pin the tools service (taskset missing?); DOTNET_PROCESSOR_COUNT=1 only");

        await call(0);
        Console.WriteLine($"warming up for {warmUp.TotalSeconds:0} s ...");
        Console.WriteLine(await OpenLoopLoad.RunAsync("warm-up", rate, warmUp, call));

        // The floor on this machine, same process, core and rate: an unauthenticated GET /healthz.
        using (var probe = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 256 }) { BaseAddress = run.Tools.Client.BaseAddress })
        {
            async Task HealthAsync(int _)
            {
                using var response = await probe.GetAsync(new Uri("healthz", UriKind.Relative));
                response.EnsureSuccessStatusCode();
            }

            Console.WriteLine(await OpenLoopLoad.RunAsync($"baseline /healthz {rate}/s", rate, duration, HealthAsync));
        }

        var cpuBefore = run.Tools.TotalProcessorTime;
        var openLoop = await OpenLoopLoad.RunAsync($"open-loop {rate}/s", rate, duration, call);
        var cpu = run.Tools.TotalProcessorTime - cpuBefore;
        Console.WriteLine(openLoop);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tools process CPU: {cpu.TotalMicroseconds / Math.Max(1, openLoop.Sent):F0} us per call ({cpu.TotalSeconds / openLoop.Seconds * 100:F0}% of one core)"));

        var (calls, seconds, latencies) = await ClosedLoopAsync(call, concurrency, duration);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"closed-loop x{concurrency}: {calls / seconds:F0} calls/s  p50 {Percentile(latencies, 0.50):F2}  p99 {Percentile(latencies, 0.99):F2} ms"));
        return (openLoop, calls / seconds);
    }
}

using System.Diagnostics;
using System.Globalization;

namespace AgentVerse.Benchmarks;

/// <summary>Command-line options, percentiles, machine load and CPU pinning shared by the benchmarks.</summary>
internal static class BenchmarkSupport
{
    public static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }

    /// <summary>The <paramref name="p"/> quantile of ascending <paramref name="sorted"/> (nearest rank).</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Pins every thread of process <paramref name="pid"/> to CPU <paramref name="cpu"/>; false without <c>taskset</c>.</summary>
    public static bool PinToCpu(int pid, int cpu)
    {
        try
        {
            using var taskset = Process.Start(new ProcessStartInfo("taskset", ["-a", "-p", "-c", cpu.ToString(CultureInfo.InvariantCulture), pid.ToString(CultureInfo.InvariantCulture)])
            {
                RedirectStandardOutput = true,
            });
            taskset?.WaitForExit();
            return taskset?.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>The process running <paramref name="dll"/> with <c>APP_PORT=<paramref name="appPort"/></c>, if any.</summary>
    public static int? FindService(string dll, int appPort)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(dll, StringComparison.Ordinal)
                    && File.ReadAllText(Path.Combine(directory, "environ")).Split('\0').Contains($"APP_PORT={appPort.ToString(CultureInfo.InvariantCulture)}"))
                {
                    return pid;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's or a vanished process.
            }
        }

        return null;
    }

    /// <summary><paramref name="concurrency"/> callers calling back to back for <paramref name="duration"/>; latencies ascending.</summary>
    public static async Task<(int Calls, double Seconds, double[] Latencies)> ClosedLoopAsync(Func<int, Task> call, int concurrency, TimeSpan duration)
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
}

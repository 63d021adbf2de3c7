using System.Diagnostics;

namespace AgentVerse.Benchmarks;

/// <summary>Latency figures of one run, in milliseconds.</summary>
internal sealed record LoadResult(string Name, int Sent, int Failed, double Seconds, double P50, double P90, double P99, double Max)
{
    public double CallsPerSecond => (Sent - Failed) / Seconds;

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Name,-28} {CallsPerSecond,8:F0} calls/s  p50 {P50,6:F2} ms  p90 {P90,6:F2} ms  p99 {P99,6:F2} ms  max {Max,7:F2} ms  failed {Failed}");
}

/// <summary>
/// Open-loop load: calls start on a fixed schedule whatever the previous ones are doing, and latency is
/// measured from the scheduled start, so a stall shows up in the percentiles instead of slowing the offered
/// rate (no coordinated omission).
/// </summary>
internal static class OpenLoopLoad
{
    public static async Task<LoadResult> RunAsync(string name, int ratePerSecond, TimeSpan duration, Func<int, Task> call)
    {
        var total = (int)(ratePerSecond * duration.TotalSeconds);
        var latencies = new double[total];
        var failed = 0;
        var calls = new Task[total];
        var interval = Stopwatch.Frequency / (double)ratePerSecond;
        var clock = Stopwatch.StartNew();
        var start = clock.ElapsedTicks;

        for (var i = 0; i < total; i++)
        {
            var scheduled = start + (long)(i * interval);
            // Sleep while the next slot is more than ~2 ms away, then yield: timer granularity is about 1 ms.
            while (scheduled - clock.ElapsedTicks > Stopwatch.Frequency / 500)
            {
                await Task.Delay(1);
            }
            while (clock.ElapsedTicks < scheduled)
            {
                Thread.Yield();
            }
            var index = i;
            calls[i] = Task.Run(async () =>
            {
                try
                {
                    await call(index);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
                {
                    Interlocked.Increment(ref failed);
                }
                latencies[index] = (clock.ElapsedTicks - scheduled) * 1000.0 / Stopwatch.Frequency;
            });
        }
        await Task.WhenAll(calls);
        var seconds = (clock.ElapsedTicks - start) / (double)Stopwatch.Frequency;
        Array.Sort(latencies);
        return new LoadResult(name, total, failed, seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.90), Percentile(latencies, 0.99), latencies[^1]);
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

using System.Diagnostics;
using static AgentVerse.Benchmarks.BenchmarkSupport;

namespace AgentVerse.Benchmarks;

/// <summary>Latency figures of one run, in milliseconds.</summary>
internal sealed record LoadResult(string Name, int Sent, int Failed, double Seconds, double P50, double P90, double P99, double Max, double SendP50, double SendP99)
{
    public double CallsPerSecond => (Sent - Failed) / Seconds;

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Name,-24} {CallsPerSecond,6:F0} calls/s  p50 {P50,6:F2}  p90 {P90,6:F2}  p99 {P99,6:F2}  max {Max,7:F2} ms (from schedule) | p50 {SendP50,5:F2}  p99 {SendP99,6:F2} ms (from send)  failed {Failed}");
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
        var fromSend = new double[total];
        var failed = 0;
        var calls = new Task[total];
        var interval = Stopwatch.Frequency / (double)ratePerSecond;
        var clock = Stopwatch.StartNew();
        var start = clock.ElapsedTicks;

        // A dedicated thread keeps the schedule: Thread.Sleep(1) wakes within about a millisecond on Linux,
        // tighter than the timer queue behind Task.Delay, and unlike spinning it leaves the CPU to the system under test.
        var scheduled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scheduler = new Thread(() =>
        {
            var next = 0;
            while (next < total)
            {
                var now = clock.ElapsedTicks;
                while (next < total && start + (long)(next * interval) <= now)
                {
                    var index = next;
                    var slot = start + (long)(index * interval);
                    calls[index] = Task.Run(() => MeasureAsync(index, slot));
                    next++;
                }
                Thread.Sleep(1);
            }
            scheduled.SetResult();
        }) { IsBackground = true, Name = "open-loop scheduler" };
        scheduler.Start();
        // Awaited, not joined: a pool thread blocked for the whole run is a large share of a 2-core pool.
        await scheduled.Task;

        async Task MeasureAsync(int index, long scheduled)
        {
            var sent = clock.ElapsedTicks;
            try
            {
                await call(index);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                Interlocked.Increment(ref failed);
            }
            var done = clock.ElapsedTicks;
            latencies[index] = (done - scheduled) * 1000.0 / Stopwatch.Frequency;
            fromSend[index] = (done - sent) * 1000.0 / Stopwatch.Frequency;
        }

        await Task.WhenAll(calls);
        var seconds = (clock.ElapsedTicks - start) / (double)Stopwatch.Frequency;
        Array.Sort(latencies);
        Array.Sort(fromSend);
        return new LoadResult(name, total, failed, seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.90), Percentile(latencies, 0.99), latencies[^1],
            Percentile(fromSend, 0.50), Percentile(fromSend, 0.99));
    }
}

using System.Text.Json;
using AgentVerse.Tools.Execution;
using Dapr.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Tests;

/// <summary>The background writer, through the official DaprClient, against a recording stand-in for the sidecar's gRPC API.</summary>
public sealed class ExecutionRecorderTests
{
    private static ExecutionRecorder Recorder(DaprClient dapr, ToolsOptions options)
    {
        var settings = Options.Create(options);
        return new ExecutionRecorder(dapr, new ExecutionIndex(dapr, settings), settings, NullLogger<ExecutionRecorder>.Instance);
    }

    private static ToolExecutionRecord Record(int i) => new(
        $"e{i}", "calculator", i % 2 == 0 ? "alice" : "bob", JsonDocument.Parse("""{"expression":"1+1"}""").RootElement, null,
        "COMPLETED", "success", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1, "trace", null, null);

    [Fact]
    public async Task Stopping_drains_every_queued_record_and_event()
    {
        await using var sidecar = await RecordingSidecar.StartAsync();
        using var dapr = sidecar.CreateClient();
        var recorder = Recorder(dapr, new ToolsOptions { RecordQueueCapacity = 50 });
        await recorder.StartAsync(default);

        // More than the queue holds: the producers wait rather than lose records.
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => recorder.RecordAsync(Record(i), default).AsTask()));
        await recorder.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal(500, sidecar.SavedKeys.Distinct().Count());
        Assert.Contains("tool-execution:e499", sidecar.SavedKeys);
        Assert.Equal(500, sidecar.Published.Distinct().Count());
        // Batched: far fewer transactions than records.
        Assert.True(sidecar.Transactions < 100, $"{sidecar.Transactions} transactions");
        // Alice has the even ones, 250 in all: buckets of 100, 100 and 50, the newest last.
        Assert.Equal(250, JsonDocument.Parse(sidecar.Indexes["tool-execution-index:alice"]).RootElement.GetProperty("count").GetInt32());
        Assert.Equal("e498", JsonSerializer.Deserialize<List<string>>(sidecar.Indexes["tool-execution-index:alice:2"])![^1]);
    }

    [Fact]
    public async Task A_batch_is_published_in_one_bulk_call()
    {
        await using var sidecar = await RecordingSidecar.StartAsync();
        using var dapr = sidecar.CreateClient();
        // A long batching wait, so the 20 records queued at once form one batch.
        var recorder = Recorder(dapr, new ToolsOptions { RecordBatchDelayMs = 200 });
        await recorder.StartAsync(default);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => recorder.RecordAsync(Record(i), default).AsTask()));
        await recorder.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal(20, sidecar.Published.Distinct().Count());
        Assert.Equal(1, sidecar.BulkPublishes);
    }

    [Fact]
    public async Task Events_the_broker_refused_are_published_again()
    {
        await using var sidecar = await RecordingSidecar.StartAsync();
        sidecar.PartialFailures = 2;
        using var dapr = sidecar.CreateClient();
        var recorder = Recorder(dapr, new ToolsOptions { RecordBatchDelayMs = 200 });
        await recorder.StartAsync(default);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => recorder.RecordAsync(Record(i), default).AsTask()));
        await recorder.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        // Half refused, then half of those, then the rest: each event published exactly once.
        Assert.Equal(20, sidecar.Published.Count);
        Assert.Equal(20, sidecar.Published.Distinct().Count());
        Assert.Equal(3, sidecar.BulkPublishes);
    }

    [Fact]
    public async Task A_broker_that_stays_down_costs_the_events_but_not_the_writer()
    {
        await using var sidecar = await RecordingSidecar.StartAsync();
        sidecar.TotalFailures = 3;
        using var dapr = sidecar.CreateClient();
        var recorder = Recorder(dapr, new ToolsOptions { RecordBatchDelayMs = 0 });
        await recorder.StartAsync(default);

        await recorder.RecordAsync(Record(1), default);
        // Three failed attempts (with backoff) for the first batch, then the writer goes on with the next.
        while (Volatile.Read(ref sidecar.BulkPublishes) < 3)
        {
            await Task.Delay(10);
        }

        await recorder.RecordAsync(Record(2), default);
        await recorder.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Contains("tool-execution:e1", sidecar.SavedKeys);
        Assert.Contains("tool-execution:e2", sidecar.SavedKeys);
        Assert.DoesNotContain("e1", sidecar.Published);
        Assert.Contains("e2", sidecar.Published);
    }

    [Fact]
    public async Task A_record_arriving_after_stop_is_still_saved()
    {
        await using var sidecar = await RecordingSidecar.StartAsync();
        using var dapr = sidecar.CreateClient();
        var recorder = Recorder(dapr, new ToolsOptions { RecordQueueCapacity = 1 });
        await recorder.StartAsync(default);
        await recorder.StopAsync(default);

        await recorder.RecordAsync(Record(1), default);

        Assert.Contains("tool-execution:e1", sidecar.SavedKeys);
        Assert.Contains("e1", sidecar.Published);
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using AgentVerse.Dapr;
using AgentVerse.Tools.Execution;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Tests;

/// <summary>The background writer against a recording stand-in for the sidecar's HTTP API.</summary>
public sealed class ExecutionRecorderTests
{
    private sealed class RecordingSidecar : HttpMessageHandler
    {
        public ConcurrentBag<string> SavedKeys { get; } = [];

        public ConcurrentBag<string> Published { get; } = [];

        public ConcurrentDictionary<string, string> Indexes { get; } = new();

        public int Transactions;

        public int BulkPublishes;

        /// <summary>Bulk publishes to answer as daprd does when the broker refuses entries: every other entry fails (0 = none).</summary>
        public int PartialFailures;

        /// <summary>Bulk publishes to answer with a plain 500, as when the broker is down (0 = none).</summary>
        public int TotalFailures;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(2, cancellationToken);
            var path = request.RequestUri!.AbsolutePath;
            if (request.Method == HttpMethod.Get && path.StartsWith("/v1.0/state/statestore/", StringComparison.Ordinal))
            {
                var key = Uri.UnescapeDataString(path["/v1.0/state/statestore/".Length..]);
                if (!Indexes.TryGetValue(key, out var value))
                {
                    return new HttpResponseMessage(HttpStatusCode.NoContent);
                }

                var found = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(value) };
                found.Headers.TryAddWithoutValidation("ETag", "1");
                return found;
            }

            if (path == "/v1.0/state/statestore/transaction")
            {
                Interlocked.Increment(ref Transactions);
                using var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken));
                foreach (var operation in body.RootElement.GetProperty("operations").EnumerateArray())
                {
                    var key = operation.GetProperty("request").GetProperty("key").GetString()!;
                    if (key.StartsWith("tool-execution-index:", StringComparison.Ordinal))
                    {
                        Indexes[key] = operation.GetProperty("request").GetProperty("value").GetRawText();
                    }
                    else
                    {
                        SavedKeys.Add(key);
                    }
                }

                return new HttpResponseMessage(HttpStatusCode.NoContent);
            }

            if (path == "/v1.0-alpha1/publish/bulk/pubsub/tool.executed")
            {
                Interlocked.Increment(ref BulkPublishes);
                if (Interlocked.Decrement(ref TotalFailures) >= 0)
                {
                    return new HttpResponseMessage(HttpStatusCode.InternalServerError)
                    {
                        Content = new StringContent("""{"errorCode":"ERR_PUBSUB_PUBLISH_MESSAGE","message":"broker down"}"""),
                    };
                }

                var failSome = Interlocked.Decrement(ref PartialFailures) >= 0;
                using var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken));
                var failed = new List<object>();
                var index = 0;
                foreach (var entry in body.RootElement.EnumerateArray())
                {
                    var entryId = entry.GetProperty("entryId").GetString()!;
                    if (failSome && index++ % 2 == 0)
                    {
                        failed.Add(new { entryId, error = "queue full" });
                    }
                    else
                    {
                        Published.Add(entry.GetProperty("event").GetProperty("executionId").GetString()!);
                    }
                }

                return failed.Count == 0
                    ? new HttpResponseMessage(HttpStatusCode.NoContent)
                    : new HttpResponseMessage(HttpStatusCode.InternalServerError)
                    {
                        Content = new StringContent(JsonSerializer.Serialize(new { failedEntries = failed, errorCode = "ERR_PUBSUB_PUBLISH_MESSAGE" })),
                    };
            }

            if (path.StartsWith("/v1.0/publish/pubsub/tool.executed", StringComparison.Ordinal))
            {
                Published.Add(JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("executionId").GetString()!);
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            }

            return new HttpResponseMessage(HttpStatusCode.NotFound);
        }
    }

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
        var sidecar = new RecordingSidecar();
        using var dapr = new DaprClient(new HttpClient(sidecar), new DaprClientOptions { HttpEndpoint = new Uri("http://127.0.0.1:1/") });
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
        var sidecar = new RecordingSidecar();
        using var dapr = new DaprClient(new HttpClient(sidecar), new DaprClientOptions { HttpEndpoint = new Uri("http://127.0.0.1:1/") });
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
        var sidecar = new RecordingSidecar { PartialFailures = 2 };
        using var dapr = new DaprClient(new HttpClient(sidecar), new DaprClientOptions { HttpEndpoint = new Uri("http://127.0.0.1:1/") });
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
        var sidecar = new RecordingSidecar { TotalFailures = 3 };
        using var dapr = new DaprClient(new HttpClient(sidecar), new DaprClientOptions { HttpEndpoint = new Uri("http://127.0.0.1:1/") });
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
        var sidecar = new RecordingSidecar();
        using var dapr = new DaprClient(new HttpClient(sidecar), new DaprClientOptions { HttpEndpoint = new Uri("http://127.0.0.1:1/") });
        var recorder = Recorder(dapr, new ToolsOptions { RecordQueueCapacity = 1 });
        await recorder.StartAsync(default);
        await recorder.StopAsync(default);

        await recorder.RecordAsync(Record(1), default);

        Assert.Contains("tool-execution:e1", sidecar.SavedKeys);
        Assert.Contains("e1", sidecar.Published);
    }
}

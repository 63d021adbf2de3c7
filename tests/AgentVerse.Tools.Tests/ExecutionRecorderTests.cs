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
                    if (key.StartsWith("tool-executions-by-user:", StringComparison.Ordinal))
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

            if (path.StartsWith("/v1.0/publish/pubsub/tool.executed", StringComparison.Ordinal))
            {
                Published.Add(JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("executionId").GetString()!);
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            }

            return new HttpResponseMessage(HttpStatusCode.NotFound);
        }
    }

    private static ToolExecutionRecord Record(int i) => new(
        $"e{i}", "calculator", i % 2 == 0 ? "alice" : "bob", JsonDocument.Parse("""{"expression":"1+1"}""").RootElement, null,
        "COMPLETED", "success", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1, "trace", null, null);

    [Fact]
    public async Task Stopping_drains_every_queued_record_and_event()
    {
        var sidecar = new RecordingSidecar();
        using var dapr = new DaprClient(new HttpClient(sidecar), new DaprClientOptions { HttpEndpoint = new Uri("http://127.0.0.1:1/") });
        var recorder = new ExecutionRecorder(dapr, Options.Create(new ToolsOptions { RecordQueueCapacity = 50 }), NullLogger<ExecutionRecorder>.Instance);
        await recorder.StartAsync(default);

        // More than the queue holds: the producers wait rather than lose records.
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => recorder.RecordAsync(Record(i), default).AsTask()));
        await recorder.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal(500, sidecar.SavedKeys.Distinct().Count());
        Assert.Contains("tool-execution:e499", sidecar.SavedKeys);
        Assert.Equal(500, sidecar.Published.Distinct().Count());
        // Batched: far fewer transactions than records.
        Assert.True(sidecar.Transactions < 100, $"{sidecar.Transactions} transactions");
        var aliceIndex = JsonSerializer.Deserialize<List<string>>(sidecar.Indexes["tool-executions-by-user:alice"])!;
        Assert.Equal(250, aliceIndex.Count);
        Assert.Equal("e498", aliceIndex[0]);
    }

    [Fact]
    public async Task A_record_arriving_after_stop_is_still_saved()
    {
        var sidecar = new RecordingSidecar();
        using var dapr = new DaprClient(new HttpClient(sidecar), new DaprClientOptions { HttpEndpoint = new Uri("http://127.0.0.1:1/") });
        var recorder = new ExecutionRecorder(dapr, Options.Create(new ToolsOptions { RecordQueueCapacity = 1 }), NullLogger<ExecutionRecorder>.Instance);
        await recorder.StartAsync(default);
        await recorder.StopAsync(default);

        await recorder.RecordAsync(Record(1), default);

        Assert.Contains("tool-execution:e1", sidecar.SavedKeys);
        Assert.Contains("e1", sidecar.Published);
    }
}

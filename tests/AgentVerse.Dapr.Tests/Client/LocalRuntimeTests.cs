using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AgentVerse.Dapr.Tests.Infrastructure;
using AgentVerse.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Dapr.Tests.Client;

/// <summary>
/// Two apps and their sidecars, run by <see cref="LocalRuntime"/>: "caller" only talks to its sidecar (which wants an
/// API token); "orders" is a real Kestrel app behind its sidecar, serving invocation and topic endpoints and checking
/// the app API token its sidecar sends.
/// </summary>
public sealed class LocalRuntimeFixture : IAsyncLifetime
{
    public const string CallerToken = "caller-token";
    private const string AppToken = "orders-app-token";

    private readonly string resources = Directory.CreateTempSubdirectory("agentverse-dapr-tests-").FullName;

    public LocalRuntime Runtime { get; private set; } = null!;

    public TestApp OrdersApp { get; private set; } = null!;

    public Channel<Delivery> Received { get; } = Channel.CreateUnbounded<Delivery>();

    public string? LastTraceparent { get; private set; }

    /// <summary>Holds the "backlog" topic's handler, so its queue fills up; completed when the fixture is disposed at the latest.</summary>
    public TaskCompletionSource BacklogReleased { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Deliveries already read from <see cref="Received"/>, so a test can find one another test's read passed over.</summary>
    public List<Delivery> Seen { get; } = [];

    public DaprClient CreateCallerClient(string? token = CallerToken)
        => new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{Runtime["caller"].HttpPort}").UseDaprApiToken(token).Build();

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(resources, "statestore.yaml"), Component("statestore", "state.in-memory", ""));
        await File.WriteAllTextAsync(Path.Combine(resources, "pubsub.yaml"), Component("pubsub", "pubsub.in-memory", ""));
        await File.WriteAllTextAsync(Path.Combine(resources, "secrets.json"), """{"db":{"user":"admin","password":"p@ss"}}""");
        await File.WriteAllTextAsync(
            Path.Combine(resources, "secretstore.yaml"),
            Component("secretstore", "secretstores.local.file", $"""

                  - name: secretsFile
                    value: {Path.Combine(resources, "secrets.json")}
                  - name: multiValued
                    value: "true"
                """));

        OrdersApp = await TestApp.StartAsync(
            web =>
            {
                web.UseDaprAppApiToken();
                web.UseCloudEvents();
                web.MapSubscribeHandler();
                web.MapPost("/orders/{id}", (string id, OrderRequest order, HttpContext context) =>
                {
                    LastTraceparent = context.Request.Headers.TraceParent;
                    return Results.Ok(new OrderReply(id, order.Quantity * 2));
                });
                web.MapGet("/orders/missing", () => Results.NotFound("no such order"));
                // As a Delegate so minimal APIs write its result; a method group would bind as a RequestDelegate.
                Delegate record = RecordAsync;
                web.MapPost("/events/orders", record).WithTopic("pubsub", "orders");
                web.MapPost("/events/blobs", record).WithTopic("pubsub", "blobs");
                web.MapPost("/events/raw", record)
                    .WithTopic("pubsub", "raw", metadata: new Dictionary<string, string> { ["rawPayload"] = "true" });
                web.MapPost("/events/routed", record).WithTopic("pubsub", "routed");
                web.MapPost("/events/routed/vip", record).WithTopic("pubsub", "routed", match: "event.type == \"vip\"");
                web.MapPost("/events/risky", async (HttpContext context) =>
                {
                    var delivery = await RecordDeliveryAsync(context);
                    var text = Encoding.UTF8.GetString(delivery.Body);
                    return text.Contains("throw", StringComparison.Ordinal) ? throw new InvalidOperationException("handler failed")
                        : text.Contains("drop", StringComparison.Ordinal) ? TopicResults.Drop()
                        : TopicResults.Success();
                }).WithTopic("pubsub", "risky", deadLetterTopic: "risky-dead");
                web.MapPost("/events/risky-dead", record).WithTopic("pubsub", "risky-dead");
                web.MapPost("/events/bulk", record).WithTopic("pubsub", "bulk");
                web.MapPost("/events/backlog", async () =>
                {
                    await BacklogReleased.Task;
                    return TopicResults.Success();
                }).WithTopic("pubsub", "backlog");
            },
            builder => builder.Configuration["APP_API_TOKEN"] = AppToken);

        Runtime = await LocalRuntime.StartAsync(
            [
                new SidecarOptions { AppId = "caller", ResourcesPaths = [resources], ApiToken = CallerToken },
                new SidecarOptions { AppId = "orders", ResourcesPaths = [resources], AppPort = OrdersApp.Address.Port, AppApiToken = AppToken },
            ],
            NullLoggerFactory.Instance,
            CancellationToken.None);
        await Runtime["orders"].AppReady.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        BacklogReleased.TrySetResult();
        await Runtime.DisposeAsync();
        await OrdersApp.DisposeAsync();
        Directory.Delete(resources, recursive: true);
    }

    private async Task<IResult> RecordAsync(HttpContext context)
    {
        await RecordDeliveryAsync(context);
        return TopicResults.Success();
    }

    private async Task<Delivery> RecordDeliveryAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var delivery = new Delivery(context.Request.Path, context.Request.ContentType, body.ToArray(), context.Features.Get<ICloudEventFeature>()!.CloudEvent.Clone());
        await Received.Writer.WriteAsync(delivery);
        return delivery;
    }

    private static string Component(string name, string type, string metadata) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
        spec:
          type: {type}
          version: v1
          metadata: {(metadata.Length == 0 ? "[]" : metadata)}
        """;

    /// <summary>What a topic endpoint received: its path, the unwrapped body and the original CloudEvent.</summary>
    public sealed record Delivery(string Path, string? ContentType, byte[] Body, JsonElement CloudEvent)
    {
        public string Text => Encoding.UTF8.GetString(Body);
    }

    public sealed record OrderRequest(int Quantity);

    public sealed record OrderReply(string Id, int Doubled);
}

/// <summary>DaprClient against the real sidecars of <see cref="LocalRuntime"/>.</summary>
public sealed class LocalRuntimeTests(LocalRuntimeFixture fixture) : IClassFixture<LocalRuntimeFixture>, IDisposable
{
    private readonly DaprClient client = fixture.CreateCallerClient();

    public record Agent(string Name, int Version);

    public void Dispose() => client.Dispose();

    [Fact]
    public async Task Sidecar_is_healthy_and_describes_itself()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.WaitForSidecarAsync(timeout.Token);
        await client.SetMetadataAsync("owner", "dapr-tests");

        var metadata = await client.GetMetadataAsync();

        Assert.True(await client.CheckHealthAsync());
        Assert.Equal("caller", metadata.Id);
        Assert.Contains(metadata.Components, c => c is { Name: "statestore", Type: "state.in-memory" });
        Assert.Equal("dapr-tests", metadata.Extended["owner"]);
    }

    [Fact]
    public async Task State_round_trips_with_etags()
    {
        var key = $"agent-{Guid.NewGuid():N}";
        await client.SaveStateAsync("statestore", key, new Agent("planner", 1));

        var (agent, etag) = await client.GetStateAndETagAsync<Agent>("statestore", key);
        Assert.Equal(new Agent("planner", 1), agent);
        Assert.NotEmpty(etag);

        Assert.True(await client.TrySaveStateAsync("statestore", key, new Agent("planner", 2), etag));
        Assert.False(await client.TrySaveStateAsync("statestore", key, new Agent("planner", 3), etag));
        Assert.Equal(new Agent("planner", 2), await client.GetStateAsync<Agent>("statestore", key));

        Assert.False(await client.TryDeleteStateAsync("statestore", key, etag));
        var (_, current) = await client.GetStateAndETagAsync<Agent>("statestore", key);
        Assert.True(await client.TryDeleteStateAsync("statestore", key, current));
        Assert.Null(await client.GetStateAsync<Agent>("statestore", key));
    }

    [Fact]
    public async Task Bulk_get_and_transactions_work_together()
    {
        var (a, b, c) = ($"a-{Guid.NewGuid():N}", $"b-{Guid.NewGuid():N}", $"c-{Guid.NewGuid():N}");
        await client.SaveStateAsync("statestore", c, new Agent("old", 0));

        await client.ExecuteStateTransactionAsync("statestore",
        [
            StateTransactionRequest.Upsert(a, new Agent("a", 1)),
            StateTransactionRequest.Upsert(b, new Agent("b", 1)),
            StateTransactionRequest.Delete(c),
        ]);
        var items = await client.GetBulkStateAsync<Agent>("statestore", [a, b, c]);

        Assert.Equal([a, b, c], items.Select(i => i.Key));
        Assert.Equal(new Agent("a", 1), items[0].Value);
        Assert.Equal(new Agent("b", 1), items[1].Value);
        Assert.Null(items[2].Value);
    }

    [Fact]
    public async Task A_stale_etag_fails_the_whole_transaction()
    {
        var key = $"t-{Guid.NewGuid():N}";
        await client.SaveStateAsync("statestore", key, 1);

        var error = await Assert.ThrowsAsync<DaprApiException>(() => client.ExecuteStateTransactionAsync("statestore",
            [StateTransactionRequest.Upsert(key, 2, etag: "999999")]));

        Assert.Equal("ERR_STATE_TRANSACTION", error.ErrorCode);
        Assert.Equal(1, await client.GetStateAsync<int>("statestore", key));
    }

    [Fact]
    public async Task Unknown_store_and_bad_token_are_dapr_api_exceptions()
    {
        var unknown = await Assert.ThrowsAsync<DaprApiException>(() => client.GetStateAsync<int>("nope", "k"));
        using var tokenless = fixture.CreateCallerClient(token: "wrong");
        var unauthorized = await Assert.ThrowsAsync<DaprApiException>(() => tokenless.GetStateAsync<int>("statestore", "k"));

        Assert.Equal(("ERR_STATE_STORE_NOT_FOUND", HttpStatusCode.BadRequest), (unknown.ErrorCode, unknown.StatusCode));
        Assert.Equal((DaprApiException.UnauthorizedErrorCode, HttpStatusCode.Unauthorized), (unauthorized.ErrorCode, unauthorized.StatusCode));
        Assert.True(await tokenless.CheckOutboundHealthAsync());
    }

    [Fact]
    public async Task Secrets_come_from_the_secret_store()
    {
        var secret = await client.GetSecretAsync("secretstore", "db");
        var all = await client.GetBulkSecretAsync("secretstore");

        Assert.Equal("p@ss", secret["password"]);
        Assert.Equal("admin", all["db"]["user"]);
    }

    [Fact]
    public async Task Invocation_reaches_the_other_app_with_its_app_token_and_the_trace_context()
    {
        using var activity = new Activity("invoke-test").SetIdFormat(ActivityIdFormat.W3C).Start();

        var reply = await client.InvokeMethodAsync<LocalRuntimeFixture.OrderRequest, LocalRuntimeFixture.OrderReply>(
            "orders", "orders/42", new LocalRuntimeFixture.OrderRequest(21));

        Assert.Equal(new LocalRuntimeFixture.OrderReply("42", 42), reply);
        Assert.Equal(activity.TraceId.ToHexString(), fixture.LastTraceparent?.Split('-')[1]);
    }

    [Fact]
    public async Task The_app_refuses_calls_that_bypass_its_sidecar()
    {
        using var response = await fixture.OrdersApp.Client.PostAsJsonAsync("orders/1", new LocalRuntimeFixture.OrderRequest(1));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_callee_error_is_an_invocation_exception_but_a_plain_response_with_response()
    {
        var error = await Assert.ThrowsAsync<InvocationException>(() => client.InvokeMethodAsync<string>(HttpMethod.Get, "orders", "orders/missing"));
        using var request = client.CreateInvokeMethodRequest(HttpMethod.Get, "orders", "orders/missing");
        using var response = await client.InvokeMethodWithResponseAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Contains("no such order", error.ResponseBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_invoke_http_client_goes_through_the_sidecar()
    {
        using var http = DaprClient.CreateInvokeHttpClient("orders", $"http://127.0.0.1:{fixture.Runtime["caller"].HttpPort}", LocalRuntimeFixture.CallerToken);

        using var response = await http.PostAsJsonAsync("orders/7", new LocalRuntimeFixture.OrderRequest(1));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new LocalRuntimeFixture.OrderReply("7", 2), await response.Content.ReadFromJsonAsync<LocalRuntimeFixture.OrderReply>());
    }

    [Fact]
    public async Task A_published_event_reaches_the_subscribed_endpoint_unwrapped()
    {
        var orderId = Guid.NewGuid().ToString("N");

        await client.PublishEventAsync("pubsub", "orders", new { orderId, total = 12.5 });

        var delivery = await ReceiveAsync(d => d.Text.Contains(orderId, StringComparison.Ordinal));
        Assert.Equal("/events/orders", delivery.Path);
        Assert.Equal("application/json", delivery.ContentType);
        using var data = JsonDocument.Parse(delivery.Body);
        Assert.Equal(12.5, data.RootElement.GetProperty("total").GetDouble());
        Assert.Equal("orders", delivery.CloudEvent.GetProperty("topic").GetString());
        Assert.Equal("pubsub", delivery.CloudEvent.GetProperty("pubsubname").GetString());
        Assert.Equal("caller", delivery.CloudEvent.GetProperty("source").GetString());
    }

    [Fact]
    public async Task Published_bytes_arrive_as_the_same_bytes()
    {
        var payload = Guid.NewGuid().ToByteArray().Concat(new byte[] { 0, 255, 128 }).ToArray();

        await client.PublishByteEventAsync("pubsub", "blobs", payload, "application/octet-stream");

        var delivery = await ReceiveAsync(d => d.Path == "/events/blobs" && d.Body.AsSpan().SequenceEqual(payload));
        Assert.Equal("application/octet-stream", delivery.ContentType);
        Assert.True(delivery.CloudEvent.TryGetProperty("data_base64", out _));
    }

    [Fact]
    public async Task A_raw_payload_subscription_gets_the_published_bytes_unwrapped()
    {
        var marker = Guid.NewGuid().ToString("N");

        await client.PublishEventAsync("pubsub", "raw", new { marker }, new Dictionary<string, string> { ["rawPayload"] = "true" });

        var delivery = await ReceiveAsync(d => d.Path == "/events/raw" && d.Text.Contains(marker, StringComparison.Ordinal));
        Assert.Equal($$"""{"marker":"{{marker}}"}""", delivery.Text);
    }

    [Fact]
    public async Task A_cloud_event_is_routed_by_its_type_to_the_matching_rule()
    {
        var vip = Guid.NewGuid().ToString("N");
        var plain = Guid.NewGuid().ToString("N");

        await client.PublishEventAsync("pubsub", "routed", new CloudEvent<string>(vip) { Type = "vip", Source = new Uri("urn:tests") });
        await client.PublishEventAsync("pubsub", "routed", new CloudEvent<string>(plain) { Type = "plain", Source = new Uri("urn:tests") });

        Assert.Equal("/events/routed/vip", (await ReceiveAsync(d => d.Text.Contains(vip, StringComparison.Ordinal))).Path);
        Assert.Equal("/events/routed", (await ReceiveAsync(d => d.Text.Contains(plain, StringComparison.Ordinal))).Path);
    }

    [Theory]
    [InlineData("drop")]
    [InlineData("throw")]
    public async Task Dropped_and_failed_events_go_to_the_dead_letter_topic(string outcome)
    {
        var marker = $"{outcome}-{Guid.NewGuid():N}";

        await client.PublishEventAsync("pubsub", "risky", new { marker });

        var deadLetter = await ReceiveAsync(d => d.Path == "/events/risky-dead" && d.Text.Contains(marker, StringComparison.Ordinal));
        Assert.Equal("risky", deadLetter.CloudEvent.GetProperty("topic").GetString());
    }

    [Fact]
    public async Task Bulk_published_events_each_reach_the_subscriber()
    {
        var markers = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid().ToString("N")).ToArray();

        var response = await client.BulkPublishEventAsync("pubsub", "bulk", markers.Select(marker => new { marker }).ToList());

        Assert.Empty(response.FailedEntries);
        foreach (var marker in markers)
        {
            var delivery = await ReceiveAsync(d => d.Path == "/events/bulk" && d.Text.Contains(marker, StringComparison.Ordinal));
            Assert.Equal("application/json", delivery.ContentType);
            Assert.Equal("bulk", delivery.CloudEvent.GetProperty("topic").GetString());
            Assert.Equal("caller", delivery.CloudEvent.GetProperty("source").GetString());
        }
    }

    [Fact]
    public async Task A_bulk_published_cloud_event_keeps_its_attributes()
    {
        var marker = Guid.NewGuid().ToString("N");

        var response = await client.BulkPublishEventAsync("pubsub", "bulk",
            [new CloudEvent<string>(marker) { Id = $"id-{marker}", Type = "com.agentverse.test", Source = new Uri("urn:tests") }]);

        Assert.Empty(response.FailedEntries);
        var delivery = await ReceiveAsync(d => d.Path == "/events/bulk" && d.Text.Contains(marker, StringComparison.Ordinal));
        Assert.Equal($"id-{marker}", delivery.CloudEvent.GetProperty("id").GetString());
        Assert.Equal("com.agentverse.test", delivery.CloudEvent.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Bulk_publishing_to_an_unknown_pubsub_throws()
    {
        var error = await Assert.ThrowsAsync<DaprApiException>(() => client.BulkPublishEventAsync("nope", "bulk", new[] { 1, 2 }));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("ERR_PUBSUB_NOT_FOUND", error.ErrorCode);
    }

    [Fact]
    public async Task Entries_the_broker_refuses_come_back_as_failed_entries()
    {
        // The backlog handler never finishes, so its queue fills up: every entry past the queue's capacity is refused.
        var capacity = AgentVerse.Runtime.PubSub.InMemoryPubSub.DefaultMaxQueueLength;
        var events = Enumerable.Range(0, capacity + 5).ToList();

        var response = await client.BulkPublishEventAsync("pubsub", "backlog", events);

        // The handler may already hold the first event, leaving room for one more.
        Assert.InRange(response.FailedEntries.Count, 4, 5);
        Assert.All(response.FailedEntries, failed =>
        {
            Assert.True(failed.Entry.EventData >= capacity, $"entry {failed.Entry.EntryId} refused");
            Assert.Equal(failed.Entry.EventData.ToString(System.Globalization.CultureInfo.InvariantCulture), failed.Entry.EntryId);
            Assert.Contains("full", failed.ErrorMessage, StringComparison.Ordinal);
        });
        Assert.Equal(capacity + 4, response.FailedEntries[^1].Entry.EventData);
    }

    // Deliveries of all tests share one channel; each test waits for its own marker, skipping the others'.
    private async Task<LocalRuntimeFixture.Delivery> ReceiveAsync(Func<LocalRuntimeFixture.Delivery, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        lock (fixture.Seen)
        {
            if (fixture.Seen.FirstOrDefault(match) is { } earlier)
            {
                return earlier;
            }
        }

        while (true)
        {
            var received = await fixture.Received.Reader.ReadAsync(timeout.Token);
            lock (fixture.Seen)
            {
                fixture.Seen.Add(received);
            }

            if (match(received))
            {
                return received;
            }
        }
    }
}

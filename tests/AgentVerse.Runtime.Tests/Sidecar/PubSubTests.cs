using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using AgentVerse.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Tests.Sidecar;

/// <summary>Publish, CloudEvents wrapping, subscription discovery and delivery semantics, through real HTTP.</summary>
public sealed class PubSubTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>An app that serves <paramref name="subscribeJson"/> on /dapr/subscribe and answers topic posts with <paramref name="reply"/>.</summary>
    private static Task<TestApp> SubscriberAsync(string subscribeJson, Func<Received, int, IResult>? reply = null, ConcurrentDictionary<string, int>? counts = null)
    {
        counts ??= new ConcurrentDictionary<string, int>();
        return TestApp.StartAsync((web, app) =>
        {
            web.MapGet("/dapr/subscribe", () => Results.Text(subscribeJson, "application/json"));
            web.MapPost("/{**path}", (HttpContext context) =>
            {
                var path = context.Request.Path.Value!;
                var attempt = counts.AddOrUpdate(path, 1, (_, n) => n + 1);
                var received = app.Requests.Last(r => r.PathAndQuery == path);
                return reply?.Invoke(received, attempt) ?? Results.Ok();
            });
        });
    }

    private static JsonElement Event(Received received) => JsonDocument.Parse(received.Body).RootElement;

    [Fact]
    public async Task Published_json_arrives_as_a_cloudevent_with_daprd_fields_and_trace_context()
    {
        await using var app = await SubscriberAsync("""[{"pubsubname":"pubsub","topic":"orders","route":"/orders"}]""");
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub], new AppSpec("publisher"), new AppSpec("subscriber", app.Port));

        using var publish = new HttpRequestMessage(HttpMethod.Post, "v1.0/publish/pubsub/orders") { Content = Json("""{"orderId":42}""") };
        publish.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        using var response = await run.Client("publisher").SendAsync(publish);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());

        await TestApp.EventuallyAsync(() => app.To("/orders").Any());
        var delivered = app.To("/orders").Single();
        Assert.StartsWith("application/cloudevents+json", delivered.Header("Content-Type"));
        Assert.Equal("pubsub", delivered.Header("pubsubname"));
        Assert.Contains("0af7651916cd43dd8448eb211c80319c", delivered.Header("traceparent"));

        var ce = Event(delivered);
        Assert.Equal(42, ce.GetProperty("data").GetProperty("orderId").GetInt32());
        Assert.Equal("publisher", ce.GetProperty("source").GetString());
        Assert.Equal("com.dapr.event.sent", ce.GetProperty("type").GetString());
        Assert.Equal("1.0", ce.GetProperty("specversion").GetString());
        // daprd copies the request's Content-Type verbatim, parameters included.
        Assert.Equal("application/json; charset=utf-8", ce.GetProperty("datacontenttype").GetString());
        Assert.Equal("orders", ce.GetProperty("topic").GetString());
        Assert.Equal("pubsub", ce.GetProperty("pubsubname").GetString());
        Assert.True(Guid.TryParse(ce.GetProperty("id").GetString(), out _));
        Assert.Contains("0af7651916cd43dd8448eb211c80319c", ce.GetProperty("traceparent").GetString());
        Assert.Equal(ce.GetProperty("traceparent").GetString(), ce.GetProperty("traceid").GetString());
        Assert.True(DateTimeOffset.TryParse(ce.GetProperty("time").GetString(), out _));
    }

    [Fact]
    public async Task Data_encoding_follows_the_content_type()
    {
        await using var app = await SubscriberAsync("""[{"pubsubname":"pubsub","topic":"t","route":"/t"}]""");
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub], new AppSpec("sub", app.Port));
        var client = run.Client("sub");

        using var noType = new ByteArrayContent("plain words"u8.ToArray());
        (await client.PostAsync("v1.0/publish/pubsub/t", noType)).Dispose();
        using var binary = new ByteArrayContent([1, 2, 3]);
        binary.Headers.ContentType = new("application/octet-stream");
        (await client.PostAsync("v1.0/publish/pubsub/t", binary)).Dispose();
        using var custom = new StringContent("""{"specversion":"1.0","id":"my-id","source":"me","type":"my.type","data":"x"}""", Encoding.UTF8, "application/cloudevents+json");
        (await client.PostAsync("v1.0/publish/pubsub/t", custom)).Dispose();

        await TestApp.EventuallyAsync(() => app.To("/t").Count() == 3);
        var events = app.To("/t").Select(Event).ToList();
        Assert.Equal("text/plain", events[0].GetProperty("datacontenttype").GetString());
        Assert.Equal("plain words", events[0].GetProperty("data").GetString());
        Assert.Equal("AQID", events[1].GetProperty("data_base64").GetString());
        Assert.Equal("my-id", events[2].GetProperty("id").GetString());
        Assert.Equal("my.type", events[2].GetProperty("type").GetString());
        Assert.Equal("t", events[2].GetProperty("topic").GetString());
        Assert.Equal("pubsub", events[2].GetProperty("pubsubname").GetString());
    }

    [Fact]
    public async Task V2_routing_rules_pick_the_path_and_default_catches_the_rest()
    {
        await using var app = await SubscriberAsync("""
            [{"pubsubname":"pubsub","topic":"inventory",
              "routes":{"rules":[{"match":"event.type == \"widget\"","path":"/widgets"},{"match":"event.data.size > 10 && event.type != \"widget\"","path":"/big"}],"default":"/other"}}]
            """);
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub], new AppSpec("app", app.Port));
        var client = run.Client("app");
        foreach (var (type, size) in new[] { ("widget", 1), ("gadget", 50), ("gadget", 2) })
        {
            using var ce = new StringContent($$$"""{"specversion":"1.0","id":"{{{Guid.NewGuid()}}}","source":"s","type":"{{{type}}}","datacontenttype":"application/json","data":{"size":{{{size}}}}}""",
                Encoding.UTF8, "application/cloudevents+json");
            (await client.PostAsync("v1.0/publish/pubsub/inventory", ce)).Dispose();
        }
        await TestApp.EventuallyAsync(() => app.To("/widgets").Any() && app.To("/big").Any() && app.To("/other").Any());
        Assert.Single(app.To("/widgets"));
        Assert.Single(app.To("/big"));
        Assert.Single(app.To("/other"));
    }

    [Fact]
    public async Task Declarative_subscription_yaml_delivers_without_a_subscribe_endpoint()
    {
        await using var app = await TestApp.StartAsync((web, _) => web.MapPost("/declared", () => Results.Ok()));
        const string subscription = """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: declared-sub
            spec:
              pubsubname: pubsub
              topic: declared
              routes:
                default: /declared
            scopes:
            - app
            """;
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub, subscription], new AppSpec("app", app.Port));
        (await run.Client("app").PostAsync("v1.0/publish/pubsub/declared", Json("{}"))).Dispose();
        await TestApp.EventuallyAsync(() => app.To("/declared").Any());
    }

    [Fact]
    public async Task Retry_status_and_errors_are_redelivered_until_success()
    {
        var counts = new ConcurrentDictionary<string, int>();
        await using var app = await SubscriberAsync("""[{"pubsubname":"pubsub","topic":"flaky","route":"/flaky"}]""",
            (_, attempt) => attempt switch
            {
                1 => Results.Json(new { status = "RETRY" }),
                2 => Results.StatusCode(503),
                _ => Results.Json(new { status = "SUCCESS" }),
            }, counts);
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub, RetryPolicy("pubsub", "3", "50ms")], new AppSpec("app", app.Port));
        (await run.Client("app").PostAsync("v1.0/publish/pubsub/flaky", Json("{}"))).Dispose();

        await TestApp.EventuallyAsync(() => counts.GetValueOrDefault("/flaky") >= 3);
        await Task.Delay(300);
        Assert.Equal(3, counts["/flaky"]);
    }

    [Fact]
    public async Task A_delivery_that_times_out_is_retried()
    {
        var counts = new ConcurrentDictionary<string, int>();
        await using var app = await TestApp.StartAsync((web, _) =>
        {
            web.MapGet("/dapr/subscribe", () => Results.Text("""[{"pubsubname":"pubsub","topic":"slow","route":"/slow"}]""", "application/json"));
            web.MapPost("/slow", async () =>
            {
                if (counts.AddOrUpdate("/slow", 1, (_, n) => n + 1) == 1)
                {
                    await Task.Delay(TimeSpan.FromSeconds(3));
                }
                return Results.Ok();
            });
        });
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub, RetryPolicy("pubsub", "3", "50ms", timeout: "300ms")], new AppSpec("app", app.Port));
        (await run.Client("app").PostAsync("v1.0/publish/pubsub/slow", Json("{}"))).Dispose();
        await TestApp.EventuallyAsync(() => counts.GetValueOrDefault("/slow") >= 2, seconds: 5);
    }

    [Fact]
    public async Task Without_a_resiliency_policy_the_in_memory_component_redelivers_a_failed_message()
    {
        var counts = new ConcurrentDictionary<string, int>();
        await using var app = await SubscriberAsync("""[{"pubsubname":"pubsub","topic":"t","route":"/t"}]""",
            (_, attempt) => attempt < 3 ? Results.StatusCode(500) : Results.Ok(), counts);
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub], new AppSpec("app", app.Port));
        (await run.Client("app").PostAsync("v1.0/publish/pubsub/t", Json("{}"))).Dispose();
        await TestApp.EventuallyAsync(() => counts.GetValueOrDefault("/t") == 3);
    }

    [Fact]
    public async Task Drop_and_exhausted_retries_go_to_the_dead_letter_topic_but_404_does_not()
    {
        var counts = new ConcurrentDictionary<string, int>();
        await using var app = await SubscriberAsync("""
            [{"pubsubname":"pubsub","topic":"drops","route":"/drops","deadLetterTopic":"poison"},
             {"pubsubname":"pubsub","topic":"fails","route":"/fails","deadLetterTopic":"poison"},
             {"pubsubname":"pubsub","topic":"missing","route":"/missing","deadLetterTopic":"poison"},
             {"pubsubname":"pubsub","topic":"unrouted","routes":{"rules":[{"match":"event.type == \"never\"","path":"/never"}]},"deadLetterTopic":"poison"},
             {"pubsubname":"pubsub","topic":"poison","route":"/poison"}]
            """,
            (received, _) => received.PathAndQuery switch
            {
                "/drops" => Results.Json(new { status = "DROP" }),
                "/fails" => Results.StatusCode(500),
                "/missing" => Results.NotFound(),
                _ => Results.Ok(),
            }, counts);
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub, RetryPolicy("pubsub", "2", "20ms")], new AppSpec("app", app.Port));
        var client = run.Client("app");
        foreach (var topic in new[] { "drops", "fails", "missing", "unrouted" })
        {
            (await client.PostAsync($"v1.0/publish/pubsub/{topic}", Json($$"""{"from":"{{topic}}"}"""))).Dispose();
        }

        await TestApp.EventuallyAsync(() => app.To("/poison").Count() >= 3);
        await Task.Delay(500);
        var deadLettered = app.To("/poison").Select(r => Event(r).GetProperty("data").GetProperty("from").GetString()).Order().ToList();
        Assert.Equal(["drops", "fails", "unrouted"], deadLettered);
        Assert.Equal(3, counts["/fails"]);       // first attempt + 2 policy retries
        Assert.Equal(1, counts["/missing"]);     // 404: dropped, not retried
        // The dead-letter copy is the original event, not re-wrapped.
        Assert.Equal("drops", Event(app.To("/poison").First(r => r.Body.Contains("drops", StringComparison.Ordinal))).GetProperty("topic").GetString());
    }

    [Fact]
    public async Task Messages_reach_a_single_subscriber_in_publish_order()
    {
        await using var app = await SubscriberAsync("""[{"pubsubname":"pubsub","topic":"seq","route":"/seq"}]""");
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub], new AppSpec("app", app.Port));
        const int count = 200;
        for (var i = 0; i < count; i++)
        {
            (await run.Client("app").PostAsync("v1.0/publish/pubsub/seq", Json($$"""{"n":{{i}}}"""))).Dispose();
        }
        await TestApp.EventuallyAsync(() => app.To("/seq").Count() == count);
        Assert.Equal(Enumerable.Range(0, count), app.To("/seq").Select(r => Event(r).GetProperty("data").GetProperty("n").GetInt32()));
    }

    [Fact]
    public async Task Raw_payload_is_published_unwrapped_and_delivered_in_data_base64()
    {
        await using var app = await SubscriberAsync("""[{"pubsubname":"pubsub","topic":"raw","route":"/raw","metadata":{"rawPayload":"true"}}]""");
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub], new AppSpec("app", app.Port));
        (await run.Client("app").PostAsync("v1.0/publish/pubsub/raw?metadata.rawPayload=true", Json("""{"plain":true}"""))).Dispose();
        await TestApp.EventuallyAsync(() => app.To("/raw").Any());
        var ce = Event(app.To("/raw").Single());
        Assert.Equal("application/octet-stream", ce.GetProperty("datacontenttype").GetString());
        Assert.Equal("""{"plain":true}""", Encoding.UTF8.GetString(Convert.FromBase64String(ce.GetProperty("data_base64").GetString()!)));
    }

    [Fact]
    public async Task Publish_errors_use_daprd_codes()
    {
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryPubSub], new AppSpec("app"));
        using var unknown = await run.Client("app").PostAsync("v1.0/publish/nope/topic", Json("{}"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("ERR_PUBSUB_NOT_FOUND", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var bare = await RuntimeRun.StartAsync([], new AppSpec("app"));
        using var none = await bare.Client("app").PostAsync("v1.0/publish/pubsub/topic", Json("{}"));
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Contains("ERR_PUBSUB_NOT_CONFIGURED", await none.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static string RetryPolicy(string component, string maxRetries, string duration, string? timeout = null) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Resiliency
        metadata:
          name: test-resiliency
        spec:
          policies:
            timeouts:
              short: {timeout ?? "30s"}
            retries:
              quick:
                policy: constant
                duration: {duration}
                maxRetries: {maxRetries}
          targets:
            components:
              {component}:
                inbound:
                  timeout: short
                  retry: quick
        """;
}

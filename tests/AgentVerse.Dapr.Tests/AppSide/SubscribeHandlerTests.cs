using System.Net;
using System.Text.Json;
using AgentVerse.Dapr.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Dapr.Tests.AppSide;

public sealed class SubscribeHandlerTests
{
    [Fact]
    public async Task Subscribe_lists_a_plain_topic_endpoint_with_a_v1_route()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            web.MapPost("/orders", () => TopicResults.Success()).WithTopic("pubsub", "orders");
            web.MapSubscribeHandler();
        });

        var json = await GetSubscriptionsAsync(app);

        Assert.Equal("""[{"pubsubname":"pubsub","topic":"orders","route":"/orders"}]""", json);
    }

    [Fact]
    public async Task Subscribe_lists_match_rules_in_priority_order_with_the_default_route_in_the_v2_shape()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            web.MapPost("/events/other", () => TopicResults.Success()).WithTopic("pubsub", "events", deadLetterTopic: "events-dead");
            web.MapPost("/events/large", () => TopicResults.Success())
                .WithTopic("pubsub", "events", match: "event.data.amount > 100", priority: 2);
            web.MapPost("/events/created", () => TopicResults.Success())
                .WithTopic("pubsub", "events", match: "event.type == \"created\"", priority: 1);
            web.MapSubscribeHandler();
        });

        using var json = JsonDocument.Parse(await GetSubscriptionsAsync(app));

        var subscription = Assert.Single(json.RootElement.EnumerateArray());
        Assert.False(subscription.TryGetProperty("route", out _));
        Assert.Equal("events-dead", subscription.GetProperty("deadLetterTopic").GetString());
        var routes = subscription.GetProperty("routes");
        Assert.Equal("/events/other", routes.GetProperty("default").GetString());
        Assert.Equal(
            [("event.type == \"created\"", "/events/created"), ("event.data.amount > 100", "/events/large")],
            routes.GetProperty("rules").EnumerateArray().Select(r => (r.GetProperty("match").GetString(), r.GetProperty("path").GetString())).ToArray());
    }

    [Fact]
    public async Task Subscribe_carries_dead_letter_topic_and_metadata_and_group_prefixes()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            var group = web.MapGroup("/topics");
            group.MapPost("/raw", () => Results.Ok())
                .WithTopic("kafka", "raw-in", deadLetterTopic: "raw-dead", metadata: new Dictionary<string, string> { ["rawPayload"] = "true" });
            web.MapSubscribeHandler();
        });

        var json = await GetSubscriptionsAsync(app);

        Assert.Equal(
            """[{"pubsubname":"kafka","topic":"raw-in","route":"/topics/raw","deadLetterTopic":"raw-dead","metadata":{"rawPayload":"true"}}]""",
            json);
    }

    [Fact]
    public async Task Subscribe_includes_endpoints_declared_with_the_topic_attribute_and_mapped_after_the_handler()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            web.MapSubscribeHandler();
            web.MapPost("/audit", [Topic("pubsub", "audit", DeadLetterTopic = "audit-dead")] () => TopicResults.Success());
        });

        var json = await GetSubscriptionsAsync(app);

        Assert.Equal("""[{"pubsubname":"pubsub","topic":"audit","route":"/audit","deadLetterTopic":"audit-dead"}]""", json);
    }

    [Fact]
    public async Task Subscribe_returns_an_empty_array_when_nothing_subscribes()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            web.MapGet("/", () => "hi");
            web.MapSubscribeHandler();
        });

        Assert.Equal("[]", await GetSubscriptionsAsync(app));
    }

    [Fact]
    public async Task Subscribe_lists_each_topic_of_an_endpoint_subscribed_to_two()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            web.MapPost("/both", () => TopicResults.Success()).WithTopic("pubsub", "a").WithTopic("pubsub", "b");
            web.MapSubscribeHandler();
        });

        Assert.Equal(
            """[{"pubsubname":"pubsub","topic":"a","route":"/both"},{"pubsubname":"pubsub","topic":"b","route":"/both"}]""",
            await GetSubscriptionsAsync(app));
    }

    [Fact]
    public async Task Subscribe_skips_routes_with_parameters_which_dapr_could_not_fill()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            web.MapPost("/orders/{id}", (string id) => TopicResults.Success()).WithTopic("pubsub", "orders");
            web.MapSubscribeHandler();
        });

        Assert.Equal("[]", await GetSubscriptionsAsync(app));
    }

    [Fact]
    public async Task Subscribe_fails_when_a_topic_has_two_default_routes()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            web.MapPost("/one", () => TopicResults.Success()).WithTopic("pubsub", "orders");
            web.MapPost("/two", () => TopicResults.Success()).WithTopic("pubsub", "orders");
            web.MapSubscribeHandler();
        });

        using var response = await app.Client.GetAsync(new Uri("dapr/subscribe", UriKind.Relative));

        // Dapr logs a non-200 subscribe reply and loads nothing: louder than silently picking one route.
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    private static async Task<string> GetSubscriptionsAsync(TestApp app)
    {
        using var response = await app.Client.GetAsync(new Uri("dapr/subscribe", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }
}

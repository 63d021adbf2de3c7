using System.Text;
using System.Text.Json;
using AgentVerse.Dapr.Tests.Infrastructure;

namespace AgentVerse.Dapr.Tests.Client;

/// <summary>Publish calls against <see cref="RecordingSidecar"/>.</summary>
public sealed class PublishWireFormatTests : RecordingSidecarTests
{
    public record OrderPlaced(string OrderId, decimal Total);

    [Fact]
    public async Task Publish_posts_camel_case_json_with_metadata_as_query_parameters()
    {
        await Client.PublishEventAsync(
            "pubsub",
            "orders",
            new OrderPlaced("o-1", 9.5m),
            new Dictionary<string, string> { ["rawPayload"] = "true", ["ttlInSeconds"] = "30" });

        var request = Sidecar.SingleRequest;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1.0/publish/pubsub/orders?metadata.rawPayload=true&metadata.ttlInSeconds=30", request.RawTarget);
        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Equal("test-token", request.Header("dapr-api-token"));
        Assert.Equal("""{"orderId":"o-1","total":9.5}""", request.BodyText);
    }

    [Fact]
    public async Task Publish_bytes_keeps_their_content_type_and_topic_slashes()
    {
        await Client.PublishByteEventAsync("pubsub", "sensors/room 1", Encoding.UTF8.GetBytes("21.5"), "text/plain");

        var request = Sidecar.SingleRequest;
        Assert.Equal("/v1.0/publish/pubsub/sensors/room%201", request.RawTarget);
        Assert.Equal("text/plain", request.Header("Content-Type"));
        Assert.Equal("21.5", request.BodyText);
    }

    [Fact]
    public async Task Publishing_a_cloud_event_sends_it_as_cloudevents_json()
    {
        var cloudEvent = new CloudEvent<OrderPlaced>(new OrderPlaced("o-2", 1))
        {
            Id = "evt-1",
            Source = new Uri("urn:agentverse:orders"),
            Type = "com.agentverse.order.placed",
        };

        await Client.PublishEventAsync("pubsub", "orders", cloudEvent);

        var request = Sidecar.SingleRequest;
        Assert.Equal("application/cloudevents+json", request.Header("Content-Type"));
        using var json = JsonDocument.Parse(request.Body);
        Assert.Equal("evt-1", json.RootElement.GetProperty("id").GetString());
        Assert.Equal("1.0", json.RootElement.GetProperty("specversion").GetString());
        Assert.Equal("urn:agentverse:orders", json.RootElement.GetProperty("source").GetString());
        Assert.Equal("com.agentverse.order.placed", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("application/json", json.RootElement.GetProperty("datacontenttype").GetString());
        Assert.Equal("o-2", json.RootElement.GetProperty("data").GetProperty("orderId").GetString());
    }

    [Fact]
    public async Task Publishing_a_serialized_cloud_event_sends_it_unchanged()
    {
        using var cloudEvent = JsonDocument.Parse("""{"specversion":"1.0","id":"x","source":"s","type":"t","data":"hi"}""");

        await Client.PublishCloudEventAsync("pubsub", "orders", cloudEvent.RootElement);

        Assert.Equal("application/cloudevents+json", Sidecar.SingleRequest.Header("Content-Type"));
        Assert.Equal("""{"specversion":"1.0","id":"x","source":"s","type":"t","data":"hi"}""", Sidecar.SingleRequest.BodyText);
    }

    [Fact]
    public async Task Publish_failures_carry_the_pubsub_error_code()
    {
        Sidecar.RepliesWith(404, """{"errorCode":"ERR_PUBSUB_NOT_FOUND","message":"pubsub nope not found"}""");

        var error = await Assert.ThrowsAsync<DaprApiException>(() => Client.PublishEventAsync("nope", "orders", 1));

        Assert.Equal("ERR_PUBSUB_NOT_FOUND", error.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentVerse.Dapr.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Dapr.Tests.AppSide;

public sealed class CloudEventsMiddlewareTests : IAsyncLifetime
{
    private TestApp app = null!;

    public record Order(string Id, int Amount);

    public async Task InitializeAsync() => app = await TestApp.StartAsync(web =>
    {
        web.UseCloudEvents();
        // Echoes what the endpoint sees: content type, body, and the original event's id.
        web.MapPost("/echo", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var eventId = context.Features.Get<ICloudEventFeature>() is { } feature && feature.CloudEvent.TryGetProperty("id", out var id) ? id.GetString() : null;
            return Results.Json(new
            {
                contentType = context.Request.ContentType,
                body = Convert.ToBase64String(buffer.ToArray()),
                eventId,
            });
        });
        web.MapPost("/orders", (Order order) => Results.Json(order)).WithTopic("pubsub", "orders");
    });

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task Json_data_reaches_a_typed_endpoint_as_the_body()
    {
        using var response = await PostCloudEventAsync("orders", """
            {"specversion":"1.0","id":"e1","source":"app2","type":"com.dapr.event.sent","topic":"orders","pubsubname":"pubsub",
             "datacontenttype":"application/json","data":{"id":"o-1","amount":42}}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Order("o-1", 42), await response.Content.ReadFromJsonAsync<Order>());
    }

    [Fact]
    public async Task Json_data_is_the_body_with_the_events_content_type_and_the_event_stays_available()
    {
        var seen = await EchoAsync("""{"id":"e2","datacontenttype":"application/json; charset=utf-8","data":{"a":[1,2]}}""");

        Assert.Equal("application/json", seen.ContentType);
        Assert.Equal("""{"a":[1,2]}""", Encoding.UTF8.GetString(seen.Body));
        Assert.Equal("e2", seen.EventId);
    }

    [Fact]
    public async Task Data_without_a_content_type_is_treated_as_json()
    {
        var seen = await EchoAsync("""{"id":"e3","data":"hello"}""");

        Assert.Equal("application/json", seen.ContentType);
        Assert.Equal("\"hello\"", Encoding.UTF8.GetString(seen.Body));
    }

    [Fact]
    public async Task Text_data_is_the_unquoted_text_with_its_content_type()
    {
        var seen = await EchoAsync("""{"id":"e4","datacontenttype":"text/plain","data":"héllo \"world\""}""");

        Assert.Equal("text/plain", seen.ContentType);
        Assert.Equal("héllo \"world\"", Encoding.UTF8.GetString(seen.Body));
    }

    [Fact]
    public async Task Base64_data_is_decoded_to_the_original_bytes()
    {
        byte[] payload = [0, 1, 2, 250, 255];
        var seen = await EchoAsync($$"""{"id":"e5","datacontenttype":"application/octet-stream","data_base64":"{{Convert.ToBase64String(payload)}}"}""");

        Assert.Equal("application/octet-stream", seen.ContentType);
        Assert.Equal(payload, seen.Body);
    }

    [Fact]
    public async Task An_event_with_both_data_and_data_base64_is_rejected_with_400()
    {
        using var response = await PostCloudEventAsync("echo", """{"id":"e6","data":{},"data_base64":"AA=="}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_latin1_encoded_event_is_decoded_by_its_charset()
    {
        using var content = new ByteArrayContent(Encoding.Latin1.GetBytes("""{"id":"e7","datacontenttype":"text/plain","data":"café"}"""));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/cloudevents+json; charset=iso-8859-1");
        using var response = await app.Client.PostAsync(new Uri("echo", UriKind.Relative), content);
        var seen = await ReadEchoAsync(response);

        Assert.Equal("café", Encoding.UTF8.GetString(seen.Body));
    }

    [Fact]
    public async Task An_event_that_is_not_json_is_rejected_with_400()
    {
        using var response = await PostCloudEventAsync("echo", "not json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Requests_that_are_not_cloud_events_pass_untouched()
    {
        using var content = new StringContent("""{"data":{"x":1}}""", Encoding.UTF8, "application/json");
        using var response = await app.Client.PostAsync(new Uri("echo", UriKind.Relative), content);
        var seen = await ReadEchoAsync(response);

        Assert.Equal("application/json; charset=utf-8", seen.ContentType);
        Assert.Equal("""{"data":{"x":1}}""", Encoding.UTF8.GetString(seen.Body));
        Assert.Null(seen.EventId);
    }

    private sealed record Echo(string? ContentType, byte[] Body, string? EventId);

    private async Task<Echo> EchoAsync(string cloudEvent)
    {
        using var response = await PostCloudEventAsync("echo", cloudEvent);
        return await ReadEchoAsync(response);
    }

    private static async Task<Echo> ReadEchoAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        return new Echo(
            root.GetProperty("contentType").GetString(),
            Convert.FromBase64String(root.GetProperty("body").GetString()!),
            root.GetProperty("eventId").GetString());
    }

    private async Task<HttpResponseMessage> PostCloudEventAsync(string path, string cloudEvent)
    {
        using var content = new StringContent(cloudEvent, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json");
        return await app.Client.PostAsync(new Uri(path, UriKind.Relative), content);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using AgentVerse.Dapr.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Dapr.Tests.Client;

/// <summary>Service invocation against <see cref="RecordingSidecar"/>.</summary>
public sealed class InvocationWireFormatTests : RecordingSidecarTests
{
    public record Quote(string Symbol, decimal Price);

    [Fact]
    public async Task Invoke_posts_json_to_the_invoke_route_and_reads_the_json_reply()
    {
        Sidecar.RepliesWith(200, """{"symbol":"MSFT","price":420.5}""");

        var quote = await Client.InvokeMethodAsync<object, Quote>(HttpMethod.Put, "quotes", "/prices/msft", new { symbol = "MSFT" });

        Assert.Equal(new Quote("MSFT", 420.5m), quote);
        var request = Sidecar.SingleRequest;
        Assert.Equal("PUT", request.Method);
        Assert.Equal("/v1.0/invoke/quotes/method/prices/msft", request.RawTarget);
        Assert.Equal("""{"symbol":"MSFT"}""", request.BodyText);
        Assert.Equal("test-token", request.Header("dapr-api-token"));
    }

    [Fact]
    public async Task Invoke_throws_an_invocation_exception_with_the_callees_status_and_body()
    {
        Sidecar.RepliesWith(422, """{"title":"bad symbol"}""");

        var error = await Assert.ThrowsAsync<InvocationException>(
            () => Client.InvokeMethodAsync<Quote>(HttpMethod.Get, "quotes", "prices/zzz"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, error.StatusCode);
        Assert.Equal("quotes", error.AppId);
        Assert.Equal("prices/zzz", error.MethodName);
        Assert.Equal("""{"title":"bad symbol"}""", error.ResponseBody);
        Assert.Equal("""{"title":"bad symbol"}""", await error.Response!.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Invoke_with_response_returns_any_status_and_passes_verb_headers_and_query()
    {
        Sidecar.RepliesWith(404, "no such quote", "text/plain", ("x-reason", "gone"));
        using var request = Client.CreateInvokeMethodRequest(
            HttpMethod.Patch, "quotes", "prices/msft", [new("fields", "a b"), new("v", "2")]);
        request.Headers.Add("x-tenant", "t1");
        request.Content = new StringContent("price=1", Encoding.UTF8, "application/x-www-form-urlencoded");

        using var response = await Client.InvokeMethodWithResponseAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("gone", response.Headers.GetValues("x-reason").Single());
        Assert.Equal("no such quote", await response.Content.ReadAsStringAsync());
        var recorded = Sidecar.SingleRequest;
        Assert.Equal("PATCH", recorded.Method);
        Assert.Equal("/v1.0/invoke/quotes/method/prices/msft?fields=a%20b&v=2", recorded.RawTarget);
        Assert.Equal("t1", recorded.Header("x-tenant"));
        Assert.Equal("application/x-www-form-urlencoded; charset=utf-8", recorded.Header("Content-Type"));
        Assert.Equal("price=1", recorded.BodyText);
    }

    [Fact]
    public async Task Invoke_with_response_streams_the_reply_before_the_callee_finishes()
    {
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Sidecar.Reply = async (_, context) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n");
            await context.Response.Body.FlushAsync();
            await finish.Task;
            await context.Response.WriteAsync("data: last\n\n");
        };
        using var request = Client.CreateInvokeMethodRequest(HttpMethod.Get, "agents", "runs/1/events");

        using var response = await Client.InvokeMethodWithResponseAsync(request).WaitAsync(TimeSpan.FromSeconds(10));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        finish.SetResult();
        var rest = await reader.ReadToEndAsync();

        Assert.Equal("data: first", first);
        Assert.Equal("\ndata: last\n\n", rest);
    }

    [Fact]
    public async Task Invoke_with_response_streams_the_request_body()
    {
        var payload = new byte[256 * 1024];
        Random.Shared.NextBytes(payload);
        using var request = Client.CreateInvokeMethodRequest(HttpMethod.Post, "files", "upload");
        // Unknown length: sent chunked, never buffered whole by the Client.
        request.Content = new StreamContent(new NonSeekableStream(payload));

        using var response = await Client.InvokeMethodWithResponseAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("chunked", Sidecar.SingleRequest.Header("Transfer-Encoding"));
        Assert.Equal(payload, Sidecar.SingleRequest.Body);
    }

    [Fact]
    public async Task Invoke_http_client_sends_requests_through_the_sidecar_with_the_token()
    {
        Sidecar.RepliesWith(200, """{"symbol":"MSFT","price":1}""");
        using var http = DaprClient.CreateInvokeHttpClient("Quotes", Sidecar.Address.AbsoluteUri, "test-token");

        var quote = await http.GetFromJsonAsync<Quote>(new Uri("prices/msft?at=now", UriKind.Relative));

        Assert.Equal(new Quote("MSFT", 1), quote);
        // The app id keeps its capitals although Uri lower-cases the host.
        Assert.Equal("/v1.0/invoke/Quotes/method/prices/msft?at=now", Sidecar.SingleRequest.RawTarget);
        Assert.Equal("test-token", Sidecar.SingleRequest.Header("dapr-api-token"));
    }

    [Fact]
    public async Task Invoke_http_client_without_an_app_id_takes_it_from_the_host()
    {
        using var http = DaprClient.CreateInvokeHttpClient(daprEndpoint: Sidecar.Address.AbsoluteUri, daprApiToken: "test-token");

        using var response = await http.DeleteAsync(new Uri("http://orders/items/3"));

        Assert.Equal("DELETE", Sidecar.SingleRequest.Method);
        Assert.Equal("/v1.0/invoke/orders/method/items/3", Sidecar.SingleRequest.RawTarget);
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentVerse.Testing;

namespace AgentVerse.Gateway.Tests;

/// <summary>Requests through the gateway and the runtime reach a real service process with what they carried.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class RoutingTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_proxied_request_arrives_with_token_request_id_trace_context_and_user_headers_from_the_token()
    {
        var session = await fixture.NewUserAsync();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();

        using var response = await fixture.SendAsync(HttpMethod.Get, "/api/v1/rag/echo?x=1&y=two", session.Token, configure: r =>
        {
            r.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            r.Headers.Add("X-Request-ID", "req-42");
            r.Headers.Add("X-User-ID", "someone-else");
            r.Headers.Add("X-User-Role", "admin");
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = (await response.Content.ReadFromJsonAsync<EchoResponse>())!;
        Assert.Equal("/api/v1/rag/echo?x=1&y=two", echo.Path);
        Assert.Equal($"Bearer {session.Token}", echo.Headers["Authorization"]);
        Assert.Equal("req-42", echo.Headers["X-Request-ID"]);
        Assert.Equal("req-42", response.Headers.GetValues("X-Request-ID").Single());
        Assert.Contains(traceId, echo.Headers["traceparent"], StringComparison.Ordinal);
        Assert.Equal(traceId, echo.Headers["X-Trace-ID"]);
        Assert.Equal(session.UserId, echo.Headers["X-User-ID"]);
        Assert.Equal("user", echo.Headers["X-User-Role"]);
        Assert.Equal(session.UserId, echo.UserId);
    }

    [Fact]
    public async Task A_request_without_a_request_id_gets_one_that_is_forwarded_and_echoed()
    {
        var session = await fixture.NewUserAsync();

        using var response = await fixture.SendAsync(HttpMethod.Get, "/api/v1/rag/echo", session.Token);

        var echo = (await response.Content.ReadFromJsonAsync<EchoResponse>())!;
        var requestId = response.Headers.GetValues("X-Request-ID").Single();
        Assert.False(string.IsNullOrEmpty(requestId));
        Assert.Equal(requestId, echo.Headers["X-Request-ID"]);
    }

    [Fact]
    public async Task A_request_body_is_forwarded_to_the_service()
    {
        var session = await fixture.NewUserAsync();

        using var response = await fixture.SendAsync(HttpMethod.Post, "/api/v1/rag/echo", session.Token, new { question = "héllo", n = 3 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = (await response.Content.ReadFromJsonAsync<EchoResponse>())!;
        Assert.Equal("POST", echo.Method);
        Assert.Equal("héllo", JsonDocument.Parse(echo.Body).RootElement.GetProperty("question").GetString());
    }

    [Fact]
    public async Task Server_sent_events_arrive_one_by_one_and_a_stream_may_outlast_the_route_timeout()
    {
        var session = await fixture.NewUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/rag/stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session.Token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await fixture.Gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);

        // The service sends the second event only once released, so reading the first proves it was not buffered.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal("data: first", await reader.ReadLineAsync(timeout.Token));
        // Longer than the route's 2 s timeout, which bounds the wait for headers, not a stream.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        fixture.Stack.Echo.NextEvent.Release();
        Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
        Assert.Equal("data: second", await reader.ReadLineAsync(timeout.Token));
    }

    [Fact]
    public async Task A_service_slower_than_its_route_timeout_gets_504_problem()
    {
        var session = await fixture.NewUserAsync();
        var started = Stopwatch.StartNew();

        using var response = await fixture.SendAsync(HttpMethod.Get, "/api/v1/rag/slow", session.Token);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.InRange(started.Elapsed.TotalSeconds, 1.5, 10);
    }

    [Fact]
    public async Task A_missing_service_gets_502_problem_at_once()
    {
        var session = await fixture.NewUserAsync();

        using var response = await fixture.SendAsync(HttpMethod.Get, "/api/v1/ghost/anything", session.Token);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unknown_resource_gets_404_problem()
    {
        var session = await fixture.NewUserAsync();

        using var response = await fixture.SendAsync(HttpMethod.Get, "/api/v1/nothing-here/x", session.Token);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_gateway_refuses_unauthenticated_proxy_requests_but_passes_A2A_agent_card_discovery()
    {
        using var api = await fixture.SendAsync(HttpMethod.Get, "/api/v1/agents", null);
        using var a2aTask = await fixture.SendAsync(HttpMethod.Post, "/a2a/agent-1/v1/message:send", null, new { });
        using var card = await fixture.SendAsync(HttpMethod.Get, "/a2a/agent-1/.well-known/agent-card.json", null);
        using var mcp = await fixture.SendAsync(HttpMethod.Post, "/mcp", null, new { });

        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, a2aTask.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, mcp.StatusCode);
        // Reached the agents service, which has no card for this agent yet.
        Assert.Equal(HttpStatusCode.NotFound, card.StatusCode);
    }

    [Fact]
    public async Task A2A_goes_to_agents_and_MCP_to_tools()
    {
        var session = await fixture.NewUserAsync();

        using var a2a = await fixture.SendAsync(HttpMethod.Get, "/a2a/agent-1/tasks/1", session.Token);
        using var mcp = await fixture.SendAsync(HttpMethod.Post, "/mcp", session.Token, new { jsonrpc = "2.0", id = 1, method = "ping" });

        // agents runs (and has no A2A endpoints yet); tools does not run in this test, so the runtime cannot reach it.
        Assert.Equal(HttpStatusCode.NotFound, a2a.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, mcp.StatusCode);
        Assert.Contains("tools", (await mcp.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}

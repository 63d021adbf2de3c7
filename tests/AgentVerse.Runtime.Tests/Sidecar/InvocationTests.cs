using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Tests.Sidecar;

/// <summary>Service invocation between apps through their sidecars, as daprd does it.</summary>
public sealed class InvocationTests
{
    private static Task<TestApp> EchoAppAsync() => TestApp.StartAsync((web, _) =>
    {
        web.Map("/echo/{**rest}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            context.Response.Headers["x-echo-method"] = context.Request.Method;
            return Results.Text($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} {body}", "text/plain", statusCode: 200);
        });
        web.MapGet("/teapot", () => Results.Text("short and stout", statusCode: 418));
        web.MapGet("/events", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            for (var i = 0; i < 3; i++)
            {
                await context.Response.WriteAsync($"data: event {i}\n\n");
                await context.Response.Body.FlushAsync();
                await Task.Delay(400);
            }
        });
    });

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task Every_verb_path_query_and_body_reaches_the_callee(string verb)
    {
        await using var callee = await EchoAppAsync();
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"), new AppSpec("callee", callee.Port));

        using var request = new HttpRequestMessage(new HttpMethod(verb), "v1.0/invoke/callee/method/echo/a/b?x=1&y=two%20words");
        if (verb != "GET")
        {
            request.Content = new StringContent("payload", Encoding.UTF8, "text/plain");
        }
        request.Headers.Add("x-custom", "kept");
        request.Headers.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        using var response = await run.Client("caller").SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(verb, response.Headers.GetValues("x-echo-method").Single());
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith($"{verb} /echo/a/b?x=1&y=two%20words", text, StringComparison.Ordinal);
        if (verb != "GET")
        {
            Assert.EndsWith("payload", text, StringComparison.Ordinal);
        }

        var seen = callee.To("/echo/a/b").Single();
        Assert.Equal("kept", seen.Header("x-custom"));
        Assert.Equal("caller", seen.Header("dapr-caller-app-id"));
        Assert.Equal("callee", seen.Header("dapr-callee-app-id"));
        Assert.Contains("4bf92f3577b34da6a3ce929d0e0e4736", seen.Header("traceparent"), StringComparison.Ordinal);
        Assert.DoesNotContain("00f067aa0ba902b7", seen.Header("traceparent"), StringComparison.Ordinal); // a new span for the hop
    }

    [Fact]
    public async Task The_dapr_app_id_header_and_basic_auth_forms_route_to_the_app()
    {
        await using var callee = await EchoAppAsync();
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"), new AppSpec("callee", callee.Port));
        var client = run.Client("caller");

        using var byHeader = new HttpRequestMessage(HttpMethod.Post, "echo/header?q=1") { Content = new StringContent("h") };
        byHeader.Headers.Add("dapr-app-id", "callee");
        Assert.StartsWith("POST /echo/header?q=1 h", await (await client.SendAsync(byHeader)).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var byBasic = new HttpRequestMessage(HttpMethod.Get, "echo/basic");
        byBasic.Headers.Authorization = new("Basic", Convert.ToBase64String("dapr-app-id:callee"u8.ToArray()));
        Assert.StartsWith("GET /echo/basic", await (await client.SendAsync(byBasic)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(callee.Requests, r => r.Headers.ContainsKey("dapr-app-id"));
    }

    [Fact]
    public async Task A_path_with_doubled_or_trailing_slashes_routes_as_its_clean_form()
    {
        // daprd's CleanPathMiddleware: the actors SDK joins its endpoint "http://host:port/" and "/v1.0/actors/..."
        await using var callee = await EchoAppAsync();
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"), new AppSpec("callee", callee.Port));
        var client = run.Client("caller");

        var sidecar = client.BaseAddress!.GetLeftPart(UriPartial.Authority);
        using var health = await client.GetAsync(new Uri(sidecar + "//v1.0//healthz/"));
        using var invoked = await client.PostAsync(new Uri(sidecar + "//v1.0/invoke/callee/method/echo/x"), new StringContent("body"));

        Assert.Equal(HttpStatusCode.NoContent, health.StatusCode);
        Assert.StartsWith("POST /echo/x body", await invoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PATCH", "/v1.0/state/store")]
    [InlineData("GET", "/v1.0/publish/pubsub/topic")]
    [InlineData("DELETE", "/v1.0/metadata")]
    [InlineData("GET", "/.well-known/jwks.json")]
    public async Task Any_unmatched_path_or_method_falls_through_to_invocation(string method, string path)
    {
        // daprd registers its invocation fallback for NotFound and MethodNotAllowed alike, whatever the path looks like.
        await using var callee = await EchoAppAsync();
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"), new AppSpec("callee", callee.Port));
        var client = run.Client("caller");

        using var withoutAppId = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/')));
        using var withAppId = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'));
        withAppId.Headers.Add("dapr-app-id", "callee");
        using var forwarded = await client.SendAsync(withAppId);

        Assert.Equal(HttpStatusCode.NotFound, withoutAppId.StatusCode);
        Assert.Contains("ERR_DIRECT_INVOKE", await withoutAppId.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(callee.Requests, r => r.Method == method && r.PathAndQuery == path);
    }

    [Fact]
    public async Task The_callees_status_and_body_come_back_unchanged()
    {
        await using var callee = await EchoAppAsync();
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"), new AppSpec("callee", callee.Port));
        using var response = await run.Client("caller").GetAsync("v1.0/invoke/callee/method/teapot");
        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("short and stout", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Server_sent_events_stream_through_event_by_event()
    {
        await using var callee = await EchoAppAsync();
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"), new AppSpec("callee", callee.Port));
        using var response = await run.Client("caller").GetAsync("v1.0/invoke/callee/method/events", HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);

        var started = DateTime.UtcNow;
        Assert.Equal("data: event 0", await reader.ReadLineAsync());
        var firstAfter = DateTime.UtcNow - started;
        var rest = await reader.ReadToEndAsync();
        var allAfter = DateTime.UtcNow - started;
        Assert.Contains("data: event 2", rest, StringComparison.Ordinal);
        // The first event must not wait for the whole stream (the app pauses 400 ms between events).
        Assert.True(allAfter - firstAfter > TimeSpan.FromMilliseconds(500), $"first event after {firstAfter}, all after {allAfter}");
    }

    [Fact]
    public async Task A_chunked_request_body_of_unknown_length_streams_to_the_callee()
    {
        await using var callee = await EchoAppAsync();
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"), new AppSpec("callee", callee.Port));
        var chunks = Enumerable.Range(0, 50).Select(i => $"chunk-{i};").ToList();
        using var content = new ChunkedContent(chunks);
        using var response = await run.Client("caller").PostAsync("v1.0/invoke/callee/method/echo/upload", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith(string.Concat(chunks), await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("chunked", callee.To("/echo/upload").Single().Header("Transfer-Encoding"));
    }

    /// <summary>A body written in pieces with no Content-Length, so HTTP/1.1 sends it chunked.</summary>
    private sealed class ChunkedContent(IReadOnlyList<string> chunks) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            foreach (var chunk in chunks)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(chunk));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Fact]
    public async Task Invoking_a_missing_app_returns_err_direct_invoke()
    {
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"));
        using var response = await run.Client("caller").GetAsync("v1.0/invoke/ghost/method/anything");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ERR_DIRECT_INVOKE", json.RootElement.GetProperty("errorCode").GetString());
        Assert.Contains("ghost", json.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);

        using var noAppId = await run.Client("caller").GetAsync("some/unknown/route");
        Assert.Equal(HttpStatusCode.NotFound, noAppId.StatusCode);
        Assert.Contains("ERR_DIRECT_INVOKE", await noAppId.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_app_that_is_down_gives_err_direct_invoke_not_a_hang()
    {
        await using var callee = await EchoAppAsync();
        var port = callee.Port;
        await using var run = await RuntimeRun.StartAsync([], new AppSpec("caller"), new AppSpec("callee", port));
        await callee.DisposeAsync();
        using var response = await run.Client("caller").GetAsync("v1.0/invoke/callee/method/echo");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("ERR_DIRECT_INVOKE", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Tools.Mcp.Tests.Infrastructure;

namespace AgentVerse.Tools.Mcp.Tests;

/// <summary>
/// Bad input on <c>/mcp</c> is the caller's fault: a 4xx with a JSON-RPC error or problem+json body, never a 5xx or
/// a stack trace.
/// </summary>
[Collection(ToolsTestGroup.Name)]
public sealed class McpBadInputTests(ToolsFixture fixture)
{
    /// <summary>The service's request body limit (<c>AgentVerse:MaxRequestBodyBytes</c>, 4 MiB by default).</summary>
    private const int BodyLimit = 4 * 1024 * 1024;

    private McpTestRun Run => fixture.Run;

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task A_body_that_is_not_JSON_by_its_content_type_gets_415(string? mediaType)
    {
        using var response = await PostRawAsync(McpRpc.Initialize().ToJsonString(), mediaType is null ? null : new MediaTypeHeaderValue(mediaType));

        await AssertRefusedAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task A_JSON_body_in_an_unknown_charset_gets_415()
    {
        using var response = await PostRawAsync(McpRpc.Initialize().ToJsonString(),
            new MediaTypeHeaderValue("application/json") { CharSet = "x-no-such-charset" });

        await AssertRefusedAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("MCP-Protocol-Version", "2025-11-25\u00e9", "utf-8")]
    [InlineData("MCP-Protocol-Version", "2025-11-25\u00e9", "latin1")]
    [InlineData("Mcp-Session-Id", "s\u00e9ssion", "utf-8")]
    [InlineData("Mcp-Session-Id", "s\u00e9ssion", "latin1")]
    [InlineData("Mcp-Method", "initi\u00e4lize", "utf-8")]
    public async Task A_protocol_header_with_non_ASCII_bytes_gets_400(string header, string value, string encoding)
    {
        // An initialize that would open a session but for the header.
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.GetEncoding(encoding) };
        using var client = new HttpClient(handler) { BaseAddress = Run.Tools.Client.BaseAddress };

        using var response = await McpRpc.PostAsync(client, McpRpc.Initialize(), (await Run.NewAccountAsync()).Token,
            configure: r => r.Headers.TryAddWithoutValidation(header, value));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11")]
    [InlineData("{jsonrpc: 2.0}")]
    [InlineData("\u00ff\u00fe{}")]
    [InlineData("")]
    public async Task Malformed_or_truncated_JSON_gets_400_with_a_json_rpc_error(string body)
    {
        using var response = await PostRawAsync(body, new MediaTypeHeaderValue("application/json"));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]")]
    [InlineData("\"initialize\"")]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":42}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":[]}")]
    public async Task A_JSON_body_that_is_not_one_JSON_RPC_message_gets_400(string body)
    {
        using var response = await PostRawAsync(body, new MediaTypeHeaderValue("application/json"));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_initialize_refused_for_its_params_leaves_no_session_counting_against_the_user()
    {
        // The fixture allows 8 sessions per user; each refused initialize had opened one in the SDK.
        var token = await TokenAsync();
        var badInitialize = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = "initialize", ["params"] = new JsonArray() };
        for (var i = 0; i < 9; i++)
        {
            using var refused = await McpRpc.PostAsync(Run.Tools.Client, badInitialize, token);
            await AssertRefusedAsync(refused, HttpStatusCode.BadRequest);
            Assert.False(refused.Headers.Contains("Mcp-Session-Id"));
        }

        using var accepted = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Initialize(), token);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_the_size_limit_gets_413(bool declaresLength)
    {
        // A JSON string that keeps going past the limit: a reader stops at the limit, not at the end of the JSON.
        var body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"padding\":\"" + new string('a', BodyLimit + 1024) + "\"}}";
        HttpContent content = declaresLength
            ? new StringContent(body, Encoding.UTF8, "application/json")
            : new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };

        using var response = await SendAsync(content, chunked: !declaresLength, await TokenAsync());

        await AssertRefusedAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    /// <summary>A fresh user's token: a request that wrongly opened a session must not count against another test's user.</summary>
    private async Task<string> TokenAsync() => (await Run.NewAccountAsync()).Token;

    private async Task<HttpResponseMessage> PostRawAsync(string body, MediaTypeHeaderValue? contentType)
    {
        var content = new ByteArrayContent(Encoding.Latin1.GetBytes(body));
        content.Headers.ContentType = contentType;
        return await SendAsync(content, chunked: false, await TokenAsync());
    }

    private async Task<HttpResponseMessage> SendAsync(HttpContent content, bool chunked, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = content };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.TransferEncodingChunked = chunked ? true : null;
        // Lets the server refuse a declared length before the client sends the body; without it the server's
        // early 413 and closed connection meet a client still writing, which fails on a broken pipe.
        request.Headers.ExpectContinue = !chunked;
        try
        {
            return await Run.Tools.Client.SendAsync(request);
        }
        finally
        {
            content.Dispose();
        }
    }

    /// <summary>The status, and a body that is a JSON-RPC error or problem+json and carries no exception.</summary>
    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode} {mediaType}: {body}");
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal); // a stack frame
        var json = JsonElement.Parse(body);
        switch (mediaType)
        {
            case "application/json":
                Assert.Equal("2.0", json.GetProperty("jsonrpc").GetString());
                Assert.Equal(JsonValueKind.Number, json.GetProperty("error").GetProperty("code").ValueKind);
                break;
            case "application/problem+json":
                Assert.Equal((int)status, json.GetProperty("status").GetInt32());
                break;
            default:
                Assert.Fail($"expected a JSON-RPC error or problem+json, got {mediaType}: {body}");
                break;
        }
    }
}

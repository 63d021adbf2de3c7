using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Tools.Mcp.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp.Tests;

[Collection(ToolsTestGroup.Name)]
public sealed class McpServerTests(ToolsFixture fixture)
{
    public static readonly string[] BuiltIns = ["calculator", "datetime", "hash", "http_request", "json_query", "text", "uuid"];

    private McpTestRun Run => fixture.Run;

    private async Task<McpClient> ConnectAsync(string token, string? protocolVersion = McpRpc.Latest, Uri? endpoint = null) =>
        await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = endpoint ?? new Uri(Run.Tools.Client.BaseAddress!, "mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
            }),
            new McpClientOptions { ProtocolVersion = protocolVersion });

    [Fact]
    public async Task A_session_client_lists_every_tool_across_pages_and_calls_calculator()
    {
        // A fresh user: admins also see every user's custom tools.
        await using var client = await ConnectAsync((await Run.NewAccountAsync()).Token);

        var tools = await client.ListToolsAsync();
        var result = await client.CallToolAsync("calculator", new Dictionary<string, object?> { ["expression"] = "2+3" });

        Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
        Assert.NotNull(client.SessionId);
        Assert.Equal(BuiltIns, tools.Select(t => t.Name).Order());
        Assert.NotEqual(true, result.IsError);
        Assert.Contains("\"value\":5", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);
        Assert.Equal(5, result.StructuredContent!.Value.GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task Tools_list_pages_with_a_cursor_and_rejects_a_bad_one()
    {
        var sessionId = await McpRpc.OpenSessionAsync(Run.Tools.Client, Run.Admin.Token);

        using var first = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Request("tools/list"), Run.Admin.Token, sessionId, McpRpc.Latest);
        var page = (await McpRpc.ReadMessageAsync(first)).GetProperty("result");
        using var bad = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Request("tools/list", new JsonObject { ["cursor"] = "nonsense!" }), Run.Admin.Token, sessionId, McpRpc.Latest);

        Assert.Equal(1, page.GetProperty("tools").GetArrayLength());
        Assert.True(page.TryGetProperty("nextCursor", out _));
        Assert.Equal(-32602, (await McpRpc.ReadMessageAsync(bad)).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_stateless_2026_client_calls_tools_without_a_session()
    {
        await using var client = await ConnectAsync(Run.Admin.Token, protocolVersion: null);

        var result = await client.CallToolAsync("calculator", new Dictionary<string, object?> { ["expression"] = "6*7" });

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.Null(client.SessionId);
        Assert.Equal(42, result.StructuredContent!.Value.GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task Invalid_arguments_and_tool_failures_are_results_with_isError()
    {
        await using var client = await ConnectAsync(Run.Admin.Token);

        var invalid = await client.CallToolAsync("calculator", new Dictionary<string, object?> { ["expression"] = 5 });
        var failed = await client.CallToolAsync("calculator", new Dictionary<string, object?> { ["expression"] = "2+" });

        Assert.True(invalid.IsError);
        Assert.Contains("$.expression", Assert.IsType<TextContentBlock>(Assert.Single(invalid.Content)).Text, StringComparison.Ordinal);
        Assert.True(failed.IsError);
    }

    [Fact]
    public async Task An_unknown_tool_is_a_json_rpc_invalid_params_error()
    {
        await using var client = await ConnectAsync(Run.Admin.Token);

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("no-such-tool").AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
    }

    [Fact]
    public async Task A_users_custom_tool_is_listed_and_callable_for_them_and_unknown_to_another_user()
    {
        var owner = await Run.NewAccountAsync();
        var other = await Run.NewAccountAsync();
        using var rest = Run.ToolsClient(owner.Token);
        using var created = await rest.PostAsJsonAsync("/api/v1/tools", new
        {
            name = "weather", description = "Private weather tool", endpoint = "http://127.0.0.1:9/weather", method = "POST",
            inputSchema = new { type = "object", properties = new { city = new { type = "string" } } },
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await using var ownerClient = await ConnectAsync(owner.Token);
        await using var otherClient = await ConnectAsync(other.Token);

        var ownerTools = await ownerClient.ListToolsAsync();
        var otherTools = await otherClient.ListToolsAsync();
        var otherCall = await Assert.ThrowsAsync<McpProtocolException>(() => otherClient.CallToolAsync(id).AsTask());

        Assert.Equal("weather", Assert.Single(ownerTools, t => t.Name == id).Title);
        Assert.DoesNotContain(otherTools, t => t.Name == id);
        Assert.Equal(McpErrorCode.InvalidParams, otherCall.ErrorCode);
    }

    [Fact]
    public async Task Registering_sharing_and_deleting_a_custom_tool_tells_exactly_the_sessions_whose_tools_changed()
    {
        var owner = await Run.NewAccountAsync();
        var friend = await Run.NewAccountAsync();
        var stranger = await Run.NewAccountAsync();
        using var rest = Run.ToolsClient(owner.Token);
        var (ownerClient, ownerChanges) = await ConnectCountingChangesAsync(owner.Token);
        var (friendClient, friendChanges) = await ConnectCountingChangesAsync(friend.Token);
        var (strangerClient, strangerChanges) = await ConnectCountingChangesAsync(stranger.Token);
        await using (ownerClient)
        await using (friendClient)
        await using (strangerClient)
        {
            object Tool(params string[] sharedWith) => new
            {
                name = "notes", endpoint = "http://127.0.0.1:9/notes", method = "POST",
                visibility = sharedWith.Length > 0 ? "shared" : "private", sharedWith,
            };

            using var created = await rest.PostAsJsonAsync("/api/v1/tools", Tool());
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            await ownerChanges.WaitForAsync(1);
            using var shared = await rest.PutAsJsonAsync($"/api/v1/tools/{id}", Tool(friend.UserId));
            await friendChanges.WaitForAsync(1);
            await ownerChanges.WaitForAsync(2);
            using var deleted = await rest.DeleteAsync($"/api/v1/tools/{id}");
            await friendChanges.WaitForAsync(2);
            await ownerChanges.WaitForAsync(3);
            await Task.Delay(300); // time for a wrong notification to arrive

            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            Assert.Equal(3, ownerChanges.Count);
            Assert.Equal(2, friendChanges.Count);
            Assert.Equal(0, strangerChanges.Count);
        }
    }

    [Fact]
    public async Task A_change_before_the_GET_stream_opens_is_sent_on_it_and_a_second_GET_gets_409()
    {
        var user = await Run.NewAccountAsync();
        using var rest = Run.ToolsClient(user.Token);
        var sessionId = await McpRpc.OpenSessionAsync(Run.Tools.Client, user.Token);
        using var created = await rest.PostAsJsonAsync("/api/v1/tools", new { name = "early", endpoint = "http://127.0.0.1:9/early", method = "POST" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var stream = await OpenGetStreamAsync(user.Token, sessionId);
        var firstEvent = await ReadDataLineAsync(stream).WaitAsync(TimeSpan.FromSeconds(10));
        using var second = await OpenGetStreamAsync(user.Token, sessionId);

        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("notifications/tools/list_changed", JsonElement.Parse(firstEvent).GetProperty("method").GetString());
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    private async Task<HttpResponseMessage> OpenGetStreamAsync(string token, string sessionId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/mcp");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Add("Mcp-Session-Id", sessionId);
        request.Headers.Add("MCP-Protocol-Version", McpRpc.Latest);
        return await Run.Tools.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static async Task<string> ReadDataLineAsync(HttpResponseMessage stream)
    {
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
        }

        throw new EndOfStreamException("the GET stream ended without an event");
    }

    private async Task<(McpClient Client, NotificationCounter Changes)> ConnectCountingChangesAsync(string token)
    {
        var client = await ConnectAsync(token, "2025-11-25");
        var counter = new NotificationCounter();
        client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            counter.Increment();
            return ValueTask.CompletedTask;
        });
        return (client, counter);
    }

    private sealed class NotificationCounter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Increment() => Interlocked.Increment(ref _count);

        public async Task WaitForAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"expected {count} tools/list_changed notifications, got {Count}");
                await Task.Delay(20);
            }
        }
    }

    [Fact]
    public async Task A_viewer_lists_tools_but_a_tools_call_is_refused_as_isError()
    {
        var viewer = await Run.NewAccountAsync("viewer");
        await using var client = await ConnectAsync(viewer.Token);

        var tools = await client.ListToolsAsync();
        var result = await client.CallToolAsync("calculator", new Dictionary<string, object?> { ["expression"] = "1+1" });

        Assert.Equal("viewer", viewer.Role);
        Assert.Contains(tools, t => t.Name == "calculator");
        Assert.True(result.IsError);
        Assert.Null(result.StructuredContent);
    }

    [Fact]
    public async Task A_user_past_the_session_cap_gets_429_until_a_session_ends()
    {
        var user = await Run.NewAccountAsync();
        var sessions = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            sessions.Add(await McpRpc.OpenSessionAsync(Run.Tools.Client, user.Token));
        }

        using var refused = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Initialize(), user.Token);
        using (await DeleteAsync(user.Token, sessions[0]))
        {
        }

        using var accepted = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Initialize(), user.Token);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task A_request_without_a_token_gets_401()
    {
        using var response = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Initialize(), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_session_used_with_another_users_token_gets_404()
    {
        var other = await Run.NewAccountAsync();
        var sessionId = await McpRpc.OpenSessionAsync(Run.Tools.Client, Run.Admin.Token);

        using var stolen = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Request("tools/list"), other.Token, sessionId, McpRpc.Latest);
        using var owner = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Request("tools/list"), Run.Admin.Token, sessionId, McpRpc.Latest);
        using var deleted = await DeleteAsync(other.Token, sessionId);

        Assert.Equal(HttpStatusCode.NotFound, stolen.StatusCode);
        Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
    }

    [Fact]
    public async Task Delete_ends_the_session_and_its_id_then_gets_404()
    {
        var sessionId = await McpRpc.OpenSessionAsync(Run.Tools.Client, Run.Admin.Token);

        using var deleted = await DeleteAsync(Run.Admin.Token, sessionId);
        using var after = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Request("tools/list"), Run.Admin.Token, sessionId, McpRpc.Latest);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task An_idle_session_expires_and_its_id_then_gets_404()
    {
        var sessionId = await McpRpc.OpenSessionAsync(Run.Tools.Client, Run.Admin.Token);

        // The fixture's 3 s idle timeout, plus the 5 s between the SDK's expiry checks, plus 1 s to spare.
        await Task.Delay(TimeSpan.FromSeconds(9));
        using var after = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Request("tools/list"), Run.Admin.Token, sessionId, McpRpc.Latest);

        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task A_request_other_than_initialize_without_a_session_on_an_older_protocol_gets_400()
    {
        using var response = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Request("tools/list"), Run.Admin.Token, version: McpRpc.Latest);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_unsupported_protocol_version_gets_400()
    {
        using var response = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Request("tools/list"), Run.Admin.Token, version: "1999-01-01");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(-32022, (await McpRpc.ReadMessageAsync(response)).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_stateless_request_whose_Mcp_Method_header_differs_from_the_body_gets_400_header_mismatch()
    {
        using var response = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.StatelessRequest("tools/list"), Run.Admin.Token, version: "2026-07-28",
            configure: r => r.Headers.Add("Mcp-Method", "tools/call"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(-32020, (await McpRpc.ReadMessageAsync(response)).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("https://evil.example", null)]
    [InlineData(null, "evil.example")]
    public async Task A_foreign_Origin_or_Host_gets_403(string? origin, string? host)
    {
        using var response = await McpRpc.PostAsync(Run.Tools.Client, McpRpc.Initialize(), Run.Admin.Token, configure: r =>
        {
            if (origin is not null)
            {
                r.Headers.Add("Origin", origin);
            }

            if (host is not null)
            {
                r.Headers.Host = host;
            }
        });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Through_the_gateway_a_client_with_the_users_token_lists_and_calls_tools()
    {
        await using var client = await ConnectAsync(Run.Admin.Token, endpoint: new Uri(Run.Gateway.Client.BaseAddress!, "mcp"));

        var tools = await client.ListToolsAsync();
        var result = await client.CallToolAsync("calculator", new Dictionary<string, object?> { ["expression"] = "1+1" });

        Assert.Contains(tools, t => t.Name == "calculator");
        Assert.Equal(2, result.StructuredContent!.Value.GetProperty("value").GetDouble());
    }

    private async Task<HttpResponseMessage> DeleteAsync(string token, string sessionId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/mcp");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Add("Mcp-Session-Id", sessionId);
        return await Run.Tools.Client.SendAsync(request);
    }
}

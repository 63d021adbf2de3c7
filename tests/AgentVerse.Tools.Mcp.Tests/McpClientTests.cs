using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentVerse.Tools.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp.Tests;

/// <summary>Our MCP client against a server written with the official TypeScript SDK (<c>tests/interop/mcp/sdk-server.mjs</c>).</summary>
[Collection(ToolsTestGroup.Name)]
public sealed class McpClientTests(ToolsFixture fixture) : IAsyncLifetime
{
    private const string RemoteKey = "remote-secret-key-123";
    private NodeScript _remote = null!;
    private Uri _remoteUrl = null!;

    private McpTestRun Run => fixture.Run;

    public async Task InitializeAsync()
    {
        _remote = NodeScript.Start("mcp/sdk-server.mjs", ["0"], new Dictionary<string, string> { ["MCP_API_KEY"] = RemoteKey });
        var line = await _remote.FirstLineAsync(TimeSpan.FromSeconds(30));
        _remoteUrl = new Uri($"http://127.0.0.1:{line.Split(' ')[1]}/mcp");
    }

    public async Task DisposeAsync() => await _remote.DisposeAsync();

    private static async Task<JsonElement> RegisterAsync(HttpClient client, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/mcp/servers", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        return JsonElement.Parse(text.Length > 0 ? text : "{}");
    }

    /// <summary>Runs discovered tool <paramref name="tool"/> of <paramref name="serverId"/> through the tools API's execute.</summary>
    private static async Task<JsonElement> ExecuteAsync(HttpClient client, string serverId, string tool, object parameters, int? timeout = null)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/tools/mcp.{serverId}.{tool}/execute", new { parameters, timeout });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        return JsonElement.Parse(text);
    }

    /// <summary>The caller's newest recorded run of <paramref name="toolId"/> (records are written just after the run).</summary>
    private static async Task<JsonElement> WaitForExecutionAsync(HttpClient client, string toolId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var history = await client.GetFromJsonAsync<JsonElement>($"/api/v1/tools/executions?toolId={toolId}");
            if (history.GetProperty("executions").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } newest)
            {
                return newest;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no recorded run of {toolId}");
            await Task.Delay(50);
        }
    }

    private static Task<HttpResponseMessage> PostExecuteAsync(HttpClient client, string serverId, string tool, object parameters) =>
        client.PostAsJsonAsync($"/api/v1/tools/mcp.{serverId}.{tool}/execute", new { parameters });

    [Fact]
    public async Task Registering_an_sdk_server_discovers_its_tools_which_execute_through_the_tools_api()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);

        var server = await RegisterAsync(client, new { name = "interop", url = _remoteUrl, apiKey = RemoteKey, description = "TS SDK", autoDiscovery = true });
        var id = server.GetProperty("id").GetString()!;
        var reversed = await ExecuteAsync(client, id, "reverse", new { text = "hello" });
        var added = await ExecuteAsync(client, id, "add", new { a = 2, b = 40 });
        var image = await ExecuteAsync(client, id, "pixel", new { });
        var listed = await client.GetFromJsonAsync<JsonElement>("/api/v1/mcp/servers");

        Assert.Equal("connected", server.GetProperty("status").GetString());
        Assert.Equal(6, server.GetProperty("toolsDiscovered").GetInt32());
        Assert.Equal([$"mcp.{id}.add", $"mcp.{id}.big", $"mcp.{id}.env", $"mcp.{id}.pixel", $"mcp.{id}.reverse", $"mcp.{id}.sleep"], server.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("id").GetString()).Order());
        Assert.All(server.GetProperty("tools").EnumerateArray(), t => Assert.Equal("mcp", t.GetProperty("type").GetString()));
        Assert.Equal("success", reversed.GetProperty("status").GetString());
        Assert.Equal("olleh", reversed.GetProperty("result").GetString());
        Assert.Equal($"mcp.{id}.reverse", reversed.GetProperty("toolId").GetString());
        Assert.Equal(_remoteUrl.ToString(), reversed.GetProperty("metadata").GetProperty("serverUrl").GetString());
        Assert.Equal(42, added.GetProperty("result").GetProperty("sum").GetDouble());
        Assert.Equal("image/png", image.GetProperty("result")[0].GetProperty("mimeType").GetString()); // content blocks when not text
        var entry = Assert.Single(listed.GetProperty("servers").EnumerateArray());
        Assert.Equal(6, entry.GetProperty("toolCount").GetInt32());
        Assert.Equal("connected", entry.GetProperty("status").GetString());
        Assert.True(entry.GetProperty("hasApiKey").GetBoolean());
        Assert.DoesNotContain(RemoteKey, listed.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registering_a_server_sends_tools_list_changed_and_its_tools_run_over_our_mcp_endpoint()
    {
        var user = await Run.NewAccountAsync();
        using var rest = Run.ToolsClient(user.Token);
        await using var mcp = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(Run.Tools.Client.BaseAddress!, "mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {user.Token}" },
            }),
            new McpClientOptions { ProtocolVersion = "2025-11-25" });
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var handler = mcp.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            changed.TrySetResult();
            return ValueTask.CompletedTask;
        });

        var id = (await RegisterAsync(rest, new { name = "chained", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true })).GetProperty("id").GetString()!;
        await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var tools = await mcp.ListToolsAsync();
        var result = await mcp.CallToolAsync($"mcp.{id}.reverse", new Dictionary<string, object?> { ["text"] = "chain" });
        var image = await mcp.CallToolAsync($"mcp.{id}.pixel");
        var invalid = await mcp.CallToolAsync($"mcp.{id}.reverse", new Dictionary<string, object?> { ["text"] = 7 });

        Assert.Contains(tools, t => t.Name == $"mcp.{id}.reverse");
        Assert.Equal("niahc", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.Equal("image/png", Assert.IsType<ImageContentBlock>(Assert.Single(image.Content)).MimeType);
        Assert.True(invalid.IsError); // checked against the discovered schema before the remote is called
        var recorded = await WaitForExecutionAsync(rest, $"mcp.{id}.reverse");
        Assert.Equal("success", recorded.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task The_api_key_is_stored_encrypted_and_never_returned()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);

        var server = await RegisterAsync(client, new { name = "keyed", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true });
        using var sidecar = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Run.Runtime["tools"].HttpPort}/") };
        var stored = await sidecar.GetStringAsync($"v1.0/state/statestore/mcp-server:{server.GetProperty("id").GetString()}");
        var index = await sidecar.GetStringAsync($"v1.0/state/statestore/mcp-servers-owner:{user.UserId}");

        Assert.DoesNotContain(RemoteKey, server.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(RemoteKey, stored, StringComparison.Ordinal);
        Assert.Contains("encryptedApiKey", stored, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(server.GetProperty("id").GetString()!, index, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_api_key_leaves_the_server_registered_with_status_error()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);

        var server = await RegisterAsync(client, new { name = "bad key", url = _remoteUrl, apiKey = "wrong", autoDiscovery = true });

        Assert.Equal("error", server.GetProperty("status").GetString());
        Assert.Equal(0, server.GetProperty("toolsDiscovered").GetInt32());
    }

    [Fact]
    public async Task A_tool_list_over_the_size_limit_leaves_the_server_registered_with_status_error()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);
        await using var bloated = NodeScript.Start("mcp/sdk-server.mjs", ["0"], new Dictionary<string, string> { ["MCP_DESCRIPTION_PADDING"] = "20000" });
        var url = $"http://127.0.0.1:{(await bloated.FirstLineAsync(TimeSpan.FromSeconds(30))).Split(' ')[1]}/mcp";

        var server = await RegisterAsync(client, new { name = "bloated", url, autoDiscovery = true }); // 6 tools × 20 kB > 64 KiB

        Assert.Equal("error", server.GetProperty("status").GetString());
        Assert.Contains("larger than 65536 bytes", server.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_the_remote_forgot_is_reopened_on_the_next_call()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);
        var id = (await RegisterAsync(client, new { name = "restarts", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true })).GetProperty("id").GetString()!;
        await ExecuteAsync(client, id, "reverse", new { text = "ab" });

        using (var remote = new HttpClient())
        {
            remote.DefaultRequestHeaders.Authorization = new("Bearer", RemoteKey);
            using var dropped = await remote.PostAsync(new Uri(_remoteUrl, "/drop-sessions"), null);
            Assert.Equal(HttpStatusCode.NoContent, dropped.StatusCode);
        }

        var after = await ExecuteAsync(client, id, "reverse", new { text = "xy" });

        Assert.Equal("yx", after.GetProperty("result").GetString());
    }

    [Fact]
    public async Task A_remote_tool_slower_than_the_call_timeout_is_a_tool_error()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);
        var id = (await RegisterAsync(client, new { name = "slow", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true })).GetProperty("id").GetString()!;

        var slow = await ExecuteAsync(client, id, "sleep", new { ms = 5000 });
        var fast = await ExecuteAsync(client, id, "sleep", new { ms = 10 });

        Assert.Equal("error", slow.GetProperty("status").GetString());
        Assert.Contains("did not answer", slow.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("success", fast.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_remote_reply_over_the_size_limit_is_a_tool_error_and_the_server_stays_usable()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);
        var id = (await RegisterAsync(client, new { name = "bulky", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true })).GetProperty("id").GetString()!;

        var huge = await ExecuteAsync(client, id, "big", new { bytes = 200_000 }); // the fixture's limit is 64 KiB
        var small = await ExecuteAsync(client, id, "big", new { bytes = 1000 });

        Assert.Equal("error", huge.GetProperty("status").GetString());
        Assert.Contains("larger than 65536 bytes", huge.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(1000, small.GetProperty("result").GetString()!.Length);
    }

    [Fact]
    public async Task A_remote_tool_slower_than_the_requested_timeout_times_out()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);
        var id = (await RegisterAsync(client, new { name = "timed", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true })).GetProperty("id").GetString()!;

        var slow = await ExecuteAsync(client, id, "sleep", new { ms = 1500 }, timeout: 200);
        var next = await ExecuteAsync(client, id, "reverse", new { text = "ok" });

        Assert.Equal("timeout", slow.GetProperty("status").GetString());
        Assert.True(slow.GetProperty("executionTime").GetDouble() < 1500);
        Assert.Equal("ko", next.GetProperty("result").GetString()); // the connection survives a cancelled call
    }

    [Fact]
    public async Task Arguments_of_a_discovered_tool_are_checked_against_its_schema_before_the_server_is_called()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);
        var id = (await RegisterAsync(client, new { name = "checked", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true })).GetProperty("id").GetString()!;

        using var response = await PostExecuteAsync(client, id, "add", new { a = 1, b = "two" });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("$.parameters.b", out _), problem.GetRawText());
    }

    [Fact]
    public async Task The_tool_list_carries_discovered_tools_and_the_callers_servers()
    {
        var user = await Run.NewAccountAsync();
        var other = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);
        using var otherClient = Run.ToolsClient(other.Token);
        var id = (await RegisterAsync(client, new { name = "listed", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true })).GetProperty("id").GetString()!;

        var mine = await client.GetFromJsonAsync<JsonElement>("/api/v1/tools?type=mcp");
        var single = await client.GetFromJsonAsync<JsonElement>($"/api/v1/tools/mcp.{id}.add");
        var theirs = await otherClient.GetFromJsonAsync<JsonElement>("/api/v1/tools?type=mcp");
        using var theirGet = await otherClient.GetAsync($"/api/v1/tools/mcp.{id}.add");
        using var delete = await client.DeleteAsync($"/api/v1/tools/mcp.{id}.add");

        Assert.Equal(6, mine.GetProperty("total").GetInt32());
        Assert.All(mine.GetProperty("tools").EnumerateArray(), t =>
        {
            Assert.Equal("mcp", t.GetProperty("type").GetString());
            Assert.Equal(_remoteUrl.ToString(), t.GetProperty("serverUrl").GetString());
            Assert.Equal("active", t.GetProperty("status").GetString());
        });
        var server = Assert.Single(mine.GetProperty("mcpServers").EnumerateArray());
        Assert.Equal(id, server.GetProperty("id").GetString());
        Assert.Equal(6, server.GetProperty("toolCount").GetInt32());
        Assert.Equal("connected", server.GetProperty("status").GetString());
        Assert.Contains("tools", server.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.True(single.GetProperty("parameters").GetProperty("a").GetProperty("required").GetBoolean());
        Assert.Equal(0, theirs.GetProperty("total").GetInt32());
        Assert.Empty(theirs.GetProperty("mcpServers").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, theirGet.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode); // managed through /api/v1/mcp/servers
        Assert.DoesNotContain(RemoteKey, mine.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://169.254.169.254/mcp")]
    [InlineData("http://10.1.2.3:8080/mcp")]
    [InlineData("file:///etc/passwd")]
    public async Task A_url_outside_the_outbound_policy_is_refused(string url)
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);

        var problem = await RegisterAsync(client, new { name = "ssrf", url, autoDiscovery = true }, HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("url", out _));
    }

    [Fact]
    public async Task Another_user_can_neither_see_nor_call_nor_delete_a_server()
    {
        var owner = await Run.NewAccountAsync();
        var other = await Run.NewAccountAsync();
        using var ownerClient = Run.ToolsClient(owner.Token);
        using var otherClient = Run.ToolsClient(other.Token);
        var id = (await RegisterAsync(ownerClient, new { name = "mine", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = true })).GetProperty("id").GetString()!;

        using var get = await otherClient.GetAsync($"/api/v1/mcp/servers/{id}");
        using var call = await PostExecuteAsync(otherClient, id, "reverse", new { text = "x" });
        using var delete = await otherClient.DeleteAsync($"/api/v1/mcp/servers/{id}");
        var listed = await otherClient.GetFromJsonAsync<JsonElement>("/api/v1/mcp/servers");

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, call.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        Assert.Equal(0, listed.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Refresh_rediscovers_and_delete_removes_the_server_and_its_tools()
    {
        var user = await Run.NewAccountAsync();
        using var client = Run.ToolsClient(user.Token);
        var id = (await RegisterAsync(client, new { name = "later", url = _remoteUrl, apiKey = RemoteKey, autoDiscovery = false })).GetProperty("id").GetString()!;

        var before = await client.GetFromJsonAsync<JsonElement>($"/api/v1/mcp/servers/{id}");
        using var refreshed = await client.PostAsync($"/api/v1/mcp/servers/{id}/refresh", null);
        var after = await refreshed.Content.ReadFromJsonAsync<JsonElement>();
        using var deleted = await client.DeleteAsync($"/api/v1/mcp/servers/{id}");
        using var gone = await client.GetAsync($"/api/v1/mcp/servers/{id}");
        using var call = await PostExecuteAsync(client, id, "reverse", new { text = "x" });

        Assert.Equal(0, before.GetProperty("toolCount").GetInt32());
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        Assert.Equal(6, after.GetProperty("toolCount").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, call.StatusCode);
    }

    [Fact]
    public async Task Only_admins_register_a_stdio_server_whose_tools_then_run()
    {
        var user = await Run.NewAccountAsync();
        using var userClient = Run.ToolsClient(user.Token);
        using var adminClient = Run.ToolsClient(Run.Admin.Token);
        string[] command = [NodeScript.NodeBinary, Path.GetFullPath(Path.Combine(NodeScript.InteropDirectory, "mcp", "sdk-server.mjs")), "--stdio"];

        await RegisterAsync(userClient, new { name = "stdio", command, autoDiscovery = true }, HttpStatusCode.Forbidden);
        var server = await RegisterAsync(adminClient, new { name = "stdio", command, autoDiscovery = true });
        var id = server.GetProperty("id").GetString()!;
        var result = await ExecuteAsync(adminClient, id, "reverse", new { text = "stdio" });
        var daprPortVisible = await ExecuteAsync(adminClient, id, "env", new { name = "DAPR_HTTP_PORT" });
        var pathVisible = await ExecuteAsync(adminClient, id, "env", new { name = "PATH" });

        Assert.Equal("connected", server.GetProperty("status").GetString());
        Assert.Equal("stdio", server.GetProperty("transport").GetString());
        Assert.Equal("oidts", result.GetProperty("result").GetString());
        Assert.Equal("false", daprPortVisible.GetProperty("result").GetString()); // the service's Dapr settings stay with it
        Assert.Equal("true", pathVisible.GetProperty("result").GetString());
    }
}

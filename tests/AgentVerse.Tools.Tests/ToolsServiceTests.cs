using System.Net;
using System.Text.Json;
using AgentVerse.Tools.Execution;

namespace AgentVerse.Tools.Tests;

/// <summary>The built Tools service as a real process behind a real sidecar, with tokens from a real gateway.</summary>
[Collection(ToolsTestGroup.Name)]
public sealed class ToolsServiceTests(ToolsFixture fixture)
{
    private static readonly string[] BuiltIns = ["calculator", "datetime", "hash", "http_request", "json_query", "text", "uuid"];

    [Fact]
    public async Task Listing_tools_without_a_token_is_refused()
    {
        using var response = await fixture.Tools.GetAsync(new Uri("/api/v1/tools", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Executing_with_a_forged_token_is_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tools/calculator/execute");
        request.Headers.Authorization = new("Bearer", fixture.Alice.Token[..^4] + "AAAA");
        request.Content = System.Net.Http.Json.JsonContent.Create(new { parameters = new { expression = "1+1" } });
        using var response = await fixture.Tools.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_list_has_every_built_in_tool_in_the_seed_shape()
    {
        var (response, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Get, "/api/v1/tools?type=standard");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var list = JsonDocument.Parse(body).RootElement;
        Assert.Equal(BuiltIns.Length, list.GetProperty("total").GetInt32());
        Assert.Equal(0, list.GetProperty("mcpServers").GetArrayLength());
        var calculator = list.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("id").GetString() == "calculator");
        Assert.Equal("standard", calculator.GetProperty("type").GetString());
        Assert.Equal("active", calculator.GetProperty("status").GetString());
        var expression = calculator.GetProperty("parameters").GetProperty("expression");
        Assert.Equal("string", expression.GetProperty("type").GetString());
        Assert.True(expression.GetProperty("required").GetBoolean());
        Assert.Equal("object", calculator.GetProperty("inputSchema").GetProperty("type").GetString());
        Assert.Equal("object", calculator.GetProperty("output").GetProperty("type").GetString());
        Assert.True(calculator.TryGetProperty("lastUpdated", out _));
        Assert.True(calculator.TryGetProperty("healthUrl", out _));
        Assert.Equal(BuiltIns, list.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_list_filters_by_text_and_pages()
    {
        var (_, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Get, "/api/v1/tools?search=JSONPath");
        var found = JsonDocument.Parse(body).RootElement;
        Assert.Equal("json_query", Assert.Single(found.GetProperty("tools").EnumerateArray().ToList()).GetProperty("id").GetString());

        (_, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Get, "/api/v1/tools?type=standard&page=2&pageSize=3");
        var page = JsonDocument.Parse(body).RootElement;
        Assert.Equal(3, page.GetProperty("tools").GetArrayLength());
        Assert.Equal(BuiltIns.Length, page.GetProperty("total").GetInt32());
        Assert.Equal(BuiltIns[3..6], page.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task Calculator_executes_and_answers_the_seed_response()
    {
        var response = await fixture.ExecuteAsync(fixture.Alice, "calculator", new { expression = "2 * (3 + 4) ^ 2" });
        Assert.Equal("success", response.GetProperty("status").GetString());
        Assert.Equal(98, response.GetProperty("result").GetProperty("value").GetDouble());
        Assert.Equal("calculator", response.GetProperty("toolId").GetString());
        Assert.True(response.GetProperty("executionTime").GetDouble() >= 0);
        Assert.Equal(32, response.GetProperty("traceId").GetString()!.Length);
        Assert.Equal("1.0.0", response.GetProperty("metadata").GetProperty("version").GetString());
        Assert.Equal("math", response.GetProperty("metadata").GetProperty("capabilities")[0].GetString());
    }

    [Fact]
    public async Task Arguments_failing_the_schema_are_a_validation_problem_naming_the_json_path()
    {
        var (response, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, "/api/v1/tools/calculator/execute", new { parameters = new { expresion = "1" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("$.parameters.expression", out _), body);
        Assert.True(errors.TryGetProperty("$.parameters.expresion", out _), body);

        (response, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, "/api/v1/tools/uuid/execute", new { parameters = new { count = 101 } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("$.parameters.count", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_pattern_that_backtracks_without_end_fails_the_call_quickly_instead_of_hanging_the_service()
    {
        var id = await fixture.RegisterAsync(fixture.Alice, new
        {
            name = "redos-" + Guid.NewGuid().ToString("N")[..8],
            description = "A tool whose input schema has a catastrophic pattern",
            inputSchema = JsonDocument.Parse("""{"type":"object","properties":{"q":{"type":"string","pattern":"^(a+)+$"}}}""").RootElement,
            endpoint = fixture.Run.Target.Url("/echo").ToString(),
            method = "POST",
        });
        var started = System.Diagnostics.Stopwatch.StartNew();

        var (response, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, $"/api/v1/tools/{id}/execute",
            new { parameters = new { q = new string('a', 40) + "!" } });

        Assert.True(response.StatusCode == System.Net.HttpStatusCode.BadRequest, body);
        Assert.Contains("pattern", body, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task A_tool_whose_schema_refers_outside_itself_is_refused_at_registration()
    {
        var (response, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, "/api/v1/tools", new
        {
            name = "remote-ref",
            description = "refers to a schema on another host",
            inputSchema = JsonDocument.Parse("""{"type":"object","properties":{"q":{"$ref":"http://169.254.169.254/latest/meta-data"}}}""").RootElement,
            endpoint = fixture.Run.Target.Url("/echo").ToString(),
            method = "POST",
        });

        Assert.True(response.StatusCode == System.Net.HttpStatusCode.BadRequest, body);
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty("$.inputSchema", out _), body);
    }

    [Fact]
    public async Task A_tool_error_is_reported_in_the_response_status()
    {
        var response = await fixture.ExecuteAsync(fixture.Alice, "calculator", new { expression = "1 / 0" });
        Assert.Equal("error", response.GetProperty("status").GetString());
        Assert.Contains("Division by zero", response.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_tool_is_404()
    {
        var (response, _) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, "/api/v1/tools/nope/execute", new { parameters = new { } });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_slow_tool_times_out_at_the_requested_timeout()
    {
        var response = await fixture.ExecuteAsync(fixture.Alice, "http_request", new { url = fixture.Run.Target.Url("/slow").ToString() }, timeout: 300);
        Assert.Equal("timeout", response.GetProperty("status").GetString());
        Assert.InRange(response.GetProperty("executionTime").GetDouble(), 250, 1_500);
    }

    [Fact]
    public async Task The_requested_timeout_is_capped_by_configuration()
    {
        var response = await fixture.ExecuteAsync(fixture.Alice, "http_request", new { url = fixture.Run.Target.Url("/slow").ToString() }, timeout: 60_000);
        Assert.Equal("timeout", response.GetProperty("status").GetString());
        Assert.InRange(response.GetProperty("executionTime").GetDouble(), ToolsFixture.MaxTimeoutMs - 50, ToolsFixture.MaxTimeoutMs + 1_500);
    }

    [Theory]
    [InlineData("http://127.0.0.1:{tools}/healthz")]
    [InlineData("http://localhost:{tools}/healthz")]
    [InlineData("http://10.0.0.1/")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::1]:{tools}/healthz")]
    public async Task Http_request_through_the_service_refuses_internal_destinations(string url)
    {
        url = url.Replace("{tools}", fixture.Run.Tools.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var response = await fixture.ExecuteAsync(fixture.Alice, "http_request", new { url });
        Assert.Equal("error", response.GetProperty("status").GetString());
        Assert.Contains("Refused", response.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_request_through_the_service_refuses_a_redirect_from_an_allow_listed_server_to_loopback()
    {
        var target = fixture.Run.Target;
        var to = Uri.EscapeDataString($"http://127.0.0.1:{fixture.Run.Tools.Port}/healthz");
        var response = await fixture.ExecuteAsync(fixture.Alice, "http_request", new { url = target.Url($"/redirect?to={to}").ToString() });
        Assert.Equal("error", response.GetProperty("status").GetString());
        Assert.Contains("Refused", response.GetProperty("error").GetString(), StringComparison.Ordinal);

        // The allow-listed server itself is reachable.
        var direct = await fixture.ExecuteAsync(fixture.Alice, "http_request", new { url = target.Url("/json").ToString() });
        Assert.Equal("success", direct.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Every_built_in_tool_runs_through_the_service()
    {
        Assert.Equal("success", (await fixture.ExecuteAsync(fixture.Alice, "datetime", new { operation = "add", datetime = "2026-01-01T00:00:00Z", duration = "1h30m" })).GetProperty("status").GetString());
        Assert.Equal(2, (await fixture.ExecuteAsync(fixture.Alice, "json_query", new { data = new { a = new[] { 1, 2 } }, path = "$.a[*]" })).GetProperty("result").GetProperty("count").GetInt32());
        Assert.Equal(3, (await fixture.ExecuteAsync(fixture.Alice, "text", new { operation = "count", text = "a b c" })).GetProperty("result").GetProperty("words").GetInt32());
        Assert.Equal("5d41402abc4b2a76b9719d911017c592", (await fixture.ExecuteAsync(fixture.Alice, "hash", new { text = "hello", algorithm = "md5" })).GetProperty("result").GetProperty("hash").GetString());
        Assert.Equal(3, (await fixture.ExecuteAsync(fixture.Alice, "uuid", new { count = 3 })).GetProperty("result").GetProperty("uuids").GetArrayLength());
    }

    [Fact]
    public async Task An_execution_is_recorded_in_state_with_a_per_user_index()
    {
        var response = await fixture.ExecuteAsync(fixture.Bob, "hash", new { text = "record me" });
        var executionId = response.GetProperty("metadata").GetProperty("executionId").GetString()!;

        JsonElement record = default;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            record = await fixture.ToolsSidecar.GetStateAsync<JsonElement>("statestore", $"tool-execution:{executionId}");
            if (record.ValueKind == JsonValueKind.Object)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(JsonValueKind.Object, record.ValueKind);
        Assert.Equal("hash", record.GetProperty("toolId").GetString());
        Assert.Equal(fixture.Bob.Id, record.GetProperty("userId").GetString());
        Assert.Equal("COMPLETED", record.GetProperty("status").GetString());
        Assert.Equal("record me", record.GetProperty("input").GetProperty("text").GetString());
        Assert.Equal(response.GetProperty("result").GetProperty("hash").GetString(), record.GetProperty("output").GetProperty("hash").GetString());
        Assert.Equal(response.GetProperty("traceId").GetString(), record.GetProperty("traceId").GetString());
        Assert.True(record.TryGetProperty("startTime", out _) && record.TryGetProperty("endTime", out _) && record.TryGetProperty("duration", out _));

        var index = new ExecutionIndex(fixture.ToolsSidecar, Microsoft.Extensions.Options.Options.Create(new ToolsOptions()));
        Assert.Contains(executionId, await index.ReadAsync(fixture.Bob.Id, default));
    }

    [Fact]
    public async Task A_new_user_has_an_empty_execution_history_and_no_mcp_servers()
    {
        var newcomer = await fixture.Run.NewUserAsync();

        var (history, historyBody) = await fixture.SendAsync(newcomer, HttpMethod.Get, "/api/v1/tools/executions?toolId=hash");
        var (servers, serversBody) = await fixture.SendAsync(newcomer, HttpMethod.Get, "/api/v1/mcp/servers");

        Assert.True(history.StatusCode == System.Net.HttpStatusCode.OK, historyBody);
        Assert.Empty(JsonDocument.Parse(historyBody).RootElement.GetProperty("executions").EnumerateArray());
        Assert.True(servers.StatusCode == System.Net.HttpStatusCode.OK, serversBody);
    }

    [Fact]
    public async Task A_user_reads_their_own_execution_history_newest_first_and_no_one_elses()
    {
        var first = (await fixture.ExecuteAsync(fixture.Carol, "uuid", new { })).GetProperty("metadata").GetProperty("executionId").GetString()!;
        var second = (await fixture.ExecuteAsync(fixture.Carol, "hash", new { text = "history" })).GetProperty("metadata").GetProperty("executionId").GetString()!;

        List<string?> ids;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            await Task.Delay(50);
            var history = JsonDocument.Parse((await fixture.SendAsync(fixture.Carol, HttpMethod.Get, "/api/v1/tools/executions")).Body).RootElement;
            ids = [.. history.GetProperty("executions").EnumerateArray().Select(e => e.GetProperty("id").GetString())];
        }
        while (!ids.Contains(second) && DateTime.UtcNow < deadline);
        var hashOnly = JsonDocument.Parse((await fixture.SendAsync(fixture.Carol, HttpMethod.Get, "/api/v1/tools/executions?toolId=hash")).Body).RootElement;
        var (own, ownBody) = await fixture.SendAsync(fixture.Carol, HttpMethod.Get, $"/api/v1/tools/executions/{second}");
        var (foreign, _) = await fixture.SendAsync(fixture.Alice, HttpMethod.Get, $"/api/v1/tools/executions/{second}");
        var aliceHistory = (await fixture.SendAsync(fixture.Alice, HttpMethod.Get, "/api/v1/tools/executions?pageSize=200")).Body;

        Assert.Equal([second, first], ids.Take(2));
        Assert.Equal(second, Assert.Single(hashOnly.GetProperty("executions").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal("history", JsonDocument.Parse(ownBody).RootElement.GetProperty("input").GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.DoesNotContain(second, aliceHistory, StringComparison.Ordinal);
    }
}

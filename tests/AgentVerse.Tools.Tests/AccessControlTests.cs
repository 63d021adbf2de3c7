using System.Net;
using System.Text.Json;

namespace AgentVerse.Tools.Tests;

/// <summary>Custom tools between users: private, shared, public; and API keys never returned.</summary>
[Collection(ToolsTestGroup.Name)]
public sealed class AccessControlTests(ToolsFixture fixture)
{
    private async Task<List<string>> VisibleIdsAsync(AgentVerse.Testing.User user)
    {
        var (_, body) = await fixture.SendAsync(user, HttpMethod.Get, "/api/v1/tools?type=custom&pageSize=200");
        return [.. JsonDocument.Parse(body).RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("id").GetString()!)];
    }

    [Fact]
    public async Task Another_users_private_tool_is_404_for_every_call_and_absent_from_the_list()
    {
        var id = await fixture.RegisterAsync(fixture.Alice, fixture.EchoTool("alice-private"));

        Assert.Equal(HttpStatusCode.NotFound, (await fixture.SendAsync(fixture.Bob, HttpMethod.Get, $"/api/v1/tools/{id}")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.SendAsync(fixture.Bob, HttpMethod.Put, $"/api/v1/tools/{id}", fixture.EchoTool("stolen"))).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.SendAsync(fixture.Bob, HttpMethod.Delete, $"/api/v1/tools/{id}")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.SendAsync(fixture.Bob, HttpMethod.Post, $"/api/v1/tools/{id}/execute", new { parameters = new { q = "x" } })).Response.StatusCode);
        Assert.DoesNotContain(id, await VisibleIdsAsync(fixture.Bob));

        Assert.Contains(id, await VisibleIdsAsync(fixture.Alice));
        Assert.Contains(id, await VisibleIdsAsync(fixture.Admin));
        var (own, _) = await fixture.SendAsync(fixture.Alice, HttpMethod.Get, $"/api/v1/tools/{id}");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task A_shared_tool_can_be_used_by_the_users_it_is_shared_with_but_only_changed_by_its_owner()
    {
        var id = await fixture.RegisterAsync(fixture.Alice, fixture.EchoTool("alice-shared", "shared", [fixture.Bob.Id]));

        var (got, body) = await fixture.SendAsync(fixture.Bob, HttpMethod.Get, $"/api/v1/tools/{id}");
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        // Whom a tool is shared with is the owner's business.
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(body).RootElement.GetProperty("sharedWith").ValueKind);
        var executed = await fixture.ExecuteAsync(fixture.Bob, id, new { q = "hi" });
        Assert.Equal("success", executed.GetProperty("status").GetString());
        Assert.Equal("{\"q\":\"hi\"}", executed.GetProperty("result").GetProperty("body").GetString());

        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.SendAsync(fixture.Bob, HttpMethod.Delete, $"/api/v1/tools/{id}")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.SendAsync(fixture.Bob, HttpMethod.Put, $"/api/v1/tools/{id}", fixture.EchoTool("renamed"))).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.SendAsync(fixture.Carol, HttpMethod.Get, $"/api/v1/tools/{id}")).Response.StatusCode);

        // Unshared: Bob loses access.
        var (updated, _) = await fixture.SendAsync(fixture.Alice, HttpMethod.Put, $"/api/v1/tools/{id}", fixture.EchoTool("alice-shared", "private"));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.SendAsync(fixture.Bob, HttpMethod.Get, $"/api/v1/tools/{id}")).Response.StatusCode);
    }

    [Fact]
    public async Task A_public_tool_is_visible_to_everyone_and_deleted_by_its_owner()
    {
        var id = await fixture.RegisterAsync(fixture.Alice, fixture.EchoTool("alice-public", "public"));
        Assert.Contains(id, await VisibleIdsAsync(fixture.Carol));
        Assert.Equal("success", (await fixture.ExecuteAsync(fixture.Carol, id, new { q = "x" })).GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await fixture.SendAsync(fixture.Alice, HttpMethod.Delete, $"/api/v1/tools/{id}")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.SendAsync(fixture.Alice, HttpMethod.Get, $"/api/v1/tools/{id}")).Response.StatusCode);
        Assert.DoesNotContain(id, await VisibleIdsAsync(fixture.Carol));
    }

    [Fact]
    public async Task Listings_follow_a_tools_audience_through_every_change()
    {
        var id = await fixture.RegisterAsync(fixture.Alice, fixture.EchoTool("moving-audience"));
        async Task<(bool Alice, bool Bob, bool Carol, bool Admin)> VisibleAsync() =>
            ((await VisibleIdsAsync(fixture.Alice)).Contains(id), (await VisibleIdsAsync(fixture.Bob)).Contains(id),
             (await VisibleIdsAsync(fixture.Carol)).Contains(id), (await VisibleIdsAsync(fixture.Admin)).Contains(id));
        async Task ChangeAsync(string visibility, params string[] sharedWith) => Assert.Equal(HttpStatusCode.OK,
            (await fixture.SendAsync(fixture.Alice, HttpMethod.Put, $"/api/v1/tools/{id}", fixture.EchoTool("moving-audience", visibility, sharedWith))).Response.StatusCode);

        var asPrivate = await VisibleAsync();
        await ChangeAsync("shared", fixture.Bob.Id);
        var asShared = await VisibleAsync();
        await ChangeAsync("shared", fixture.Carol.Id);
        var asReshared = await VisibleAsync();
        await ChangeAsync("public");
        var asPublic = await VisibleAsync();
        await ChangeAsync("private");
        var privateAgain = await VisibleAsync();
        await fixture.SendAsync(fixture.Alice, HttpMethod.Delete, $"/api/v1/tools/{id}");
        var deleted = await VisibleAsync();

        Assert.Equal((true, false, false, true), asPrivate);
        Assert.Equal((true, true, false, true), asShared);
        Assert.Equal((true, false, true, true), asReshared);
        Assert.Equal((true, true, true, true), asPublic);
        Assert.Equal((true, false, false, true), privateAgain);
        Assert.Equal((false, false, false, false), deleted);
    }

    [Fact]
    public async Task Concurrent_registrations_shared_with_one_user_all_reach_their_listing()
    {
        var names = Enumerable.Range(0, 12).Select(i => $"concurrent-{i}").ToList();
        var ids = await Task.WhenAll(names.Select((name, i) =>
            fixture.RegisterAsync(i % 2 == 0 ? fixture.Alice : fixture.Carol, fixture.EchoTool(name, "shared", [fixture.Bob.Id]))));

        var visible = await VisibleIdsAsync(fixture.Bob);

        Assert.All(ids, id => Assert.Contains(id, visible));
    }

    [Fact]
    public async Task Built_in_tools_cannot_be_changed_or_deleted()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.SendAsync(fixture.Admin, HttpMethod.Delete, "/api/v1/tools/calculator")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.SendAsync(fixture.Admin, HttpMethod.Put, "/api/v1/tools/calculator", fixture.EchoTool("x"))).Response.StatusCode);
    }

    [Fact]
    public async Task A_custom_tools_arguments_are_validated_before_its_endpoint_is_called()
    {
        var id = await fixture.RegisterAsync(fixture.Alice, fixture.EchoTool("validated"));
        var before = fixture.Run.Target.ReceivedHeaders.Count;
        var (response, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, $"/api/v1/tools/{id}/execute", new { parameters = new { q = new string('x', 51) } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("$.parameters.q", body, StringComparison.Ordinal);
        Assert.Equal(before, fixture.Run.Target.ReceivedHeaders.Count);
    }

    [Fact]
    public async Task A_result_breaking_the_tools_output_schema_is_an_error_and_is_not_passed_on()
    {
        var id = await fixture.RegisterAsync(fixture.Alice, new
        {
            name = "strict-output",
            endpoint = fixture.Run.Target.Url("/echo").ToString(),
            outputSchema = JsonDocument.Parse("""{"type":"object","required":["answer"],"properties":{"answer":{"type":"number"}}}""").RootElement,
        });

        var executed = await fixture.ExecuteAsync(fixture.Alice, id, new { q = "x" });

        Assert.Equal("error", executed.GetProperty("status").GetString());
        Assert.Contains("output schema", executed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("$.result", executed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, executed.GetProperty("result").ValueKind);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/tool")]
    [InlineData("http://10.0.0.5/tool")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://localhost/tool")]
    [InlineData("http://[::1]/tool")]
    public async Task A_tool_whose_endpoint_the_outbound_policy_refuses_is_not_registered(string endpoint)
    {
        var (response, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, "/api/v1/tools", new { name = "internal", endpoint });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty("$.endpoint", out _), body);
    }

    [Fact]
    public async Task An_invalid_registration_is_a_validation_problem()
    {
        var (response, body) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, "/api/v1/tools", new { name = "", endpoint = "ftp://x", method = "TRACE", visibility = "everyone" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        foreach (var path in new[] { "$.name", "$.endpoint", "$.method", "$.visibility" })
        {
            Assert.Contains(path, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_custom_tools_api_key_is_sent_to_its_endpoint_but_never_appears_in_a_response_or_in_state()
    {
        var secret = $"sk-live-{Guid.NewGuid():N}";
        var (created, createdBody) = await fixture.SendAsync(fixture.Alice, HttpMethod.Post, "/api/v1/tools", fixture.EchoTool("keyed", "shared", [fixture.Bob.Id], apiKey: secret));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetString()!;
        Assert.True(JsonDocument.Parse(createdBody).RootElement.GetProperty("hasApiKey").GetBoolean());

        var bodies = new List<string> { createdBody };
        bodies.Add((await fixture.SendAsync(fixture.Alice, HttpMethod.Get, $"/api/v1/tools/{id}")).Body);
        bodies.Add((await fixture.SendAsync(fixture.Bob, HttpMethod.Get, $"/api/v1/tools/{id}")).Body);
        bodies.Add((await fixture.SendAsync(fixture.Alice, HttpMethod.Get, "/api/v1/tools?pageSize=200")).Body);
        var executed = await fixture.ExecuteAsync(fixture.Bob, id, new { q = "hello" });
        Assert.Equal("success", executed.GetProperty("status").GetString());
        bodies.Add(executed.GetRawText());
        var (updated, updatedBody) = await fixture.SendAsync(fixture.Alice, HttpMethod.Put, $"/api/v1/tools/{id}", fixture.EchoTool("keyed-2", "shared", [fixture.Bob.Id]));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        bodies.Add(updatedBody);

        // The endpoint got the key (kept through the update that did not mention it) ...
        Assert.Contains(fixture.Run.Target.ReceivedHeaders, h => h.TryGetValue("X-API-Key", out var value) && value == secret);
        var afterUpdate = await fixture.ExecuteAsync(fixture.Bob, id, new { q = "again" });
        Assert.Contains("X-API-Key", afterUpdate.GetProperty("result").GetProperty("headerNames").EnumerateArray().Select(h => h.GetString()));
        bodies.Add(afterUpdate.GetRawText());

        // ... and no response carried it, nor does the stored state in clear.
        Assert.All(bodies, body => Assert.DoesNotContain(secret, body, StringComparison.Ordinal));
        var stored = await fixture.ToolsSidecar.GetStateAsync<JsonElement>("statestore", $"tool:{id}");
        Assert.StartsWith("v1:", stored.GetProperty("encryptedApiKey").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, stored.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endpoint_echoing_its_api_key_has_it_redacted_from_the_result()
    {
        var secret = $"sk-live-{Guid.NewGuid():N}";
        var id = await fixture.RegisterAsync(fixture.Alice, fixture.EchoTool("leaky", apiKey: secret, path: "/leaky"));
        var executed = await fixture.ExecuteAsync(fixture.Alice, id, new { q = "x" });
        Assert.Equal("success", executed.GetProperty("status").GetString());
        Assert.Equal("***", executed.GetProperty("result").GetProperty("youSent").GetString());
        Assert.DoesNotContain(secret, executed.GetRawText(), StringComparison.Ordinal);
    }
}

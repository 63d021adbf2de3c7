using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Tools.Mcp.Tests;

/// <summary>Raw Streamable HTTP requests, for what the SDK clients never send (wrong user, bad headers).</summary>
internal static class McpRpc
{
    public const string Latest = "2025-11-25";

    public static JsonObject Initialize(int id = 1) => new()
    {
        ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = "initialize",
        ["params"] = new JsonObject
        {
            ["protocolVersion"] = Latest, ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1.0.0" },
        },
    };

    public static JsonObject Request(string method, JsonObject? parameters = null, int id = 2) => new()
    {
        ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject(),
    };

    /// <summary>A 2026-07-28 request: no session, its version and capabilities in <c>_meta</c> as that protocol requires.</summary>
    public static JsonObject StatelessRequest(string method, int id = 2) => Request(method, new JsonObject
    {
        ["_meta"] = new JsonObject
        {
            ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28",
            ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject(),
        },
    }, id);

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, JsonObject message, string? token, string? sessionId = null,
        string? version = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent(message.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
        }

        if (version is not null)
        {
            request.Headers.Add("MCP-Protocol-Version", version);
        }

        configure?.Invoke(request);
        return await client.SendAsync(request);
    }

    /// <summary>Opens a session for <paramref name="token"/> (initialize + initialized) and returns its id.</summary>
    public static async Task<string> OpenSessionAsync(HttpClient client, string token)
    {
        using var initialized = await PostAsync(client, Initialize(), token);
        Assert.Equal(System.Net.HttpStatusCode.OK, initialized.StatusCode);
        var sessionId = initialized.Headers.GetValues("Mcp-Session-Id").Single();
        using var notified = await PostAsync(client, new JsonObject { ["jsonrpc"] = "2.0", ["method"] = "notifications/initialized" }, token, sessionId, Latest);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, notified.StatusCode);
        return sessionId;
    }

    /// <summary>The JSON-RPC message of a response, plain JSON or the first SSE <c>data:</c> line.</summary>
    public static async Task<JsonElement> ReadMessageAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            body = body.Split('\n').First(l => l.StartsWith("data: {", StringComparison.Ordinal))["data: ".Length..];
        }

        return JsonElement.Parse(body);
    }
}

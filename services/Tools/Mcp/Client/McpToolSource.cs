using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>
/// What the tools API needs of the MCP client: a user's discovered <c>mcp</c> tools, the <c>mcpServers[]</c> of
/// <c>ListToolsResponse</c>, and running an <c>mcp.{server}.{name}</c> tool for <c>POST /api/v1/tools/{id}/execute</c>.
/// </summary>
public sealed class McpToolSource(McpServerStore servers, McpConnections connections)
{
    /// <summary>Whether <paramref name="toolId"/> names a discovered MCP tool (so this source resolves it).</summary>
    public static bool Owns(string toolId) => McpToolIds.TryParse(toolId, out _, out _);

    /// <summary>The connected servers' tools of <paramref name="userId"/>.</summary>
    public async Task<IReadOnlyList<McpToolView>> ToolsAsync(string userId, CancellationToken cancellationToken) =>
        [.. (await servers.ListByOwnerAsync(userId, cancellationToken))
            .Where(s => s.Status == McpServerStatus.Connected)
            .SelectMany(s => McpServerView.From(s).Tools)];

    /// <summary>The seed's <c>mcpServers[]</c> entries of <paramref name="userId"/>: id, name, url, status, toolCount, capabilities.</summary>
    public async Task<IReadOnlyList<JsonNode>> ServersAsync(string userId, CancellationToken cancellationToken) =>
        [.. (await servers.ListByOwnerAsync(userId, cancellationToken)).Select(s => (JsonNode)new JsonObject
        {
            ["id"] = s.Id,
            ["name"] = s.Name,
            ["url"] = s.Url,
            ["status"] = s.Status,
            ["toolCount"] = s.Tools.Count,
            ["capabilities"] = new JsonArray([.. s.Capabilities.Select(c => JsonValue.Create(c))]),
        })];

    /// <summary>The server and tool behind <paramref name="toolId"/> when <paramref name="userId"/> owns it (admins: any).</summary>
    public async Task<(McpServerRecord Server, McpRemoteTool Tool)?> ResolveAsync(string toolId, string userId, bool isAdmin, CancellationToken cancellationToken)
    {
        if (!McpToolIds.TryParse(toolId, out var serverId, out var name))
        {
            return null;
        }

        var server = await servers.GetAsync(serverId, cancellationToken);
        return server is not null && (server.OwnerId == userId || isAdmin) && server.Tools.FirstOrDefault(t => t.Name == name) is { } tool
            ? (server, tool)
            : null;
    }

    /// <summary>
    /// Runs the tool on its server (reconnecting once on a lost session). The result's <c>IsError</c> is a tool failure;
    /// <see langword="null"/> means the server could not be reached.
    /// </summary>
    public Task<McpToolCallResponse?> ExecuteAsync(McpServerRecord server, string toolName, JsonElement? parameters, CancellationToken cancellationToken) =>
        McpToolInvocation.CallAsync(connections, server, toolName, parameters, cancellationToken);
}

using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>
/// Body of <c>POST /api/v1/mcp/servers</c> (the seed's <c>RegisterMCPServerRequest</c>). <see cref="Url"/> is the
/// Streamable HTTP endpoint; admins may instead give <see cref="Command"/> (a stdio server: program and arguments).
/// </summary>
public sealed record RegisterMcpServerRequest(
    [property: Required, StringLength(200, MinimumLength = 1)] string Name,
    string? Url,
    [property: StringLength(4096)] string? ApiKey,
    [property: StringLength(2000)] string? Description,
    bool AutoDiscovery = true,
    IReadOnlyList<string>? Command = null);

/// <summary>
/// A registered server (the seed's <c>RegisterMCPServerResponse</c> plus its tools); never the API key.
/// </summary>
public sealed record McpServerView(
    string Id,
    string Name,
    string Url,
    string Description,
    string Status,
    int ToolsDiscovered,
    int ToolCount,
    IReadOnlyList<string> Capabilities,
    string HealthUrl,
    string Transport,
    bool HasApiKey,
    bool AutoDiscovery,
    string? ProtocolVersion,
    string? Error,
    IReadOnlyList<McpToolView> Tools,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static McpServerView From(McpServerRecord server) => new(
        server.Id, server.Name, server.Url, server.Description, server.Status, server.Tools.Count, server.Tools.Count,
        server.Capabilities, $"/api/v1/mcp/servers/{server.Id}", server.IsStdio ? "stdio" : "streamable-http",
        server.EncryptedApiKey is not null, server.AutoDiscovery, server.ProtocolVersion, server.Error,
        [.. server.Tools.Select(t => new McpToolView(McpToolIds.For(server.Id, t.Name), t.Name, t.Description, "mcp", t.InputSchema, t.OutputSchema))],
        server.CreatedAt, server.UpdatedAt);
}

/// <summary>A discovered tool as registered: type <c>mcp</c>, id <c>mcp.{serverId}.{name}</c>.</summary>
public sealed record McpToolView(string Id, string Name, string Description, string Type, JsonElement InputSchema, JsonElement? OutputSchema);

/// <summary><c>GET /api/v1/mcp/servers</c>.</summary>
public sealed record McpServerList(IReadOnlyList<McpServerView> Servers, int Total);

/// <summary>Ids of discovered tools: <c>mcp.{serverId}.{toolName}</c> (server ids have no dot).</summary>
public static class McpToolIds
{
    public const string Prefix = "mcp.";

    public static string For(string serverId, string toolName) => $"{Prefix}{serverId}.{toolName}";

    public static bool TryParse(string toolId, out string serverId, out string toolName)
    {
        (serverId, toolName) = ("", "");
        if (!toolId.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = toolId[Prefix.Length..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == rest.Length - 1)
        {
            return false;
        }

        (serverId, toolName) = (rest[..dot], rest[(dot + 1)..]);
        return true;
    }
}

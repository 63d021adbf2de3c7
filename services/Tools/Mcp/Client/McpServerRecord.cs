using System.Text.Json;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>A registered remote MCP server as stored (<c>mcp-server:{id}</c>); the API key only ever encrypted.</summary>
public sealed record McpServerRecord
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    /// <summary>The Streamable HTTP endpoint, or <c>stdio:{command}</c> for a stdio server.</summary>
    public required string Url { get; init; }

    public string Description { get; init; } = "";

    public bool AutoDiscovery { get; init; } = true;

    /// <summary>The command line of a stdio server (admins only); empty for HTTP.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>AES-GCM ciphertext bound to the server id; sent as <c>Authorization: Bearer</c>.</summary>
    public string? EncryptedApiKey { get; init; }

    public required string OwnerId { get; init; }

    /// <summary><c>connected</c>, <c>disconnected</c> or <c>error</c>.</summary>
    public string Status { get; init; } = McpServerStatus.Disconnected;

    public string? Error { get; init; }

    public string? ProtocolVersion { get; init; }

    public IReadOnlyList<string> Capabilities { get; init; } = [];

    public IReadOnlyList<McpRemoteTool> Tools { get; init; } = [];

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public bool IsStdio => Command.Count > 0;

    /// <summary>Whether <paramref name="userId"/> may see, use and manage the server and its tools: its owner or an admin.</summary>
    public bool CanUse(string userId, bool isAdmin) => isAdmin || OwnerId == userId;
}

/// <summary>A tool a remote server listed.</summary>
public sealed record McpRemoteTool(string Name, string Description, JsonElement InputSchema, JsonElement? OutputSchema);

public static class McpServerStatus
{
    public const string Connected = "connected";
    public const string Disconnected = "disconnected";
    public const string Error = "error";
}

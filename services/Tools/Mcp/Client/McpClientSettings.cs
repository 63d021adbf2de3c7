using System.ComponentModel.DataAnnotations;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>Settings of the MCP client, section <c>Mcp:Client</c>. Outbound addresses follow <c>Tools:Http</c>'s SSRF policy.</summary>
public sealed class McpClientSettings
{
    public const string SectionName = "Mcp:Client";

    /// <summary>Connecting, initializing and listing tools must finish within this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A remote <c>tools/call</c> (reconnect included) must finish within this, else it is a tool error.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most a remote server may send in one reply (or one event of a stream) before the read fails: a tool result
    /// is held in memory whole, so a hostile or broken server must not be able to send without end.
    /// </summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Whether admins may register stdio servers (a command the tools service runs).</summary>
    public bool StdioEnabled { get; set; } = true;

    [Range(1, 1000)]
    public int MaxServersPerUser { get; set; } = 50;
}

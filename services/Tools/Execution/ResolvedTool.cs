using System.Text.Json;
using AgentVerse.Tools.BuiltIns;
using AgentVerse.Tools.Mcp.Client;
using AgentVerse.Tools.Registry;

namespace AgentVerse.Tools.Execution;

/// <summary>
/// A tool a caller may run: a built-in, a registered custom HTTP tool, or a tool discovered on one of the caller's
/// MCP servers (exactly one of <see cref="BuiltIn"/>, <see cref="Custom"/> and <see cref="McpServer"/> is set).
/// </summary>
public sealed record ResolvedTool(
    string Id,
    string Name,
    string Description,
    string Type,
    JsonElement InputSchema,
    JsonElement? OutputSchema,
    string Version,
    IReadOnlyList<string> Capabilities,
    IBuiltInTool? BuiltIn,
    ToolDefinition? Custom,
    McpServerRecord? McpServer = null)
{
    public const string BuiltInVersion = "1.0.0";

    public static ResolvedTool From(IBuiltInTool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return new(tool.Name, tool.Name, tool.Description, "standard", tool.InputSchema, tool.OutputSchema, BuiltInVersion, tool.Capabilities, tool, null);
    }

    public static ResolvedTool From(ToolDefinition tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return new(tool.Id, tool.Name, tool.Description, tool.Type, tool.InputSchema, tool.OutputSchema,
            tool.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), ["http"], null, tool);
    }

    /// <summary>Tool <paramref name="tool"/> of <paramref name="server"/>, as <c>mcp.{server}.{name}</c>; its version is the negotiated protocol.</summary>
    public static ResolvedTool From(McpServerRecord server, McpRemoteTool tool)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(tool);
        return new(McpToolIds.For(server.Id, tool.Name), tool.Name, tool.Description, "mcp", tool.InputSchema, tool.OutputSchema,
            server.ProtocolVersion ?? "unknown", server.Capabilities, null, null, server);
    }
}

/// <summary>The built-in tools by id.</summary>
public sealed class BuiltInCatalog(IEnumerable<IBuiltInTool> tools)
{
    private readonly Dictionary<string, ResolvedTool> _tools = tools.ToDictionary(t => t.Name, ResolvedTool.From, StringComparer.Ordinal);

    public IEnumerable<ResolvedTool> All => _tools.Values.OrderBy(t => t.Id, StringComparer.Ordinal);

    public ResolvedTool? Find(string id) => _tools.GetValueOrDefault(id);
}

using AgentVerse.Tools.Mcp.Client;
using AgentVerse.Tools.Registry;

namespace AgentVerse.Tools.Execution;

/// <summary>
/// Every tool a caller may use, whichever way they reach it (REST or MCP): the built-ins, the custom tools they may
/// read, and the tools discovered on their own connected MCP servers. Anything else resolves to nothing, so callers
/// answer 404 and ids do not leak.
/// </summary>
public sealed class ToolCatalog(BuiltInCatalog builtIns, ToolRegistry registry, McpServerStore servers)
{
    /// <summary>
    /// The caller's tools in a stable order (built-ins by id, custom tools by creation, then MCP tools by server), with
    /// the caller's MCP servers they came from.
    /// </summary>
    public async Task<ToolListing> ListAsync(string userId, bool isAdmin, CancellationToken cancellationToken)
    {
        var custom = registry.ListVisibleAsync(userId, isAdmin, cancellationToken);
        var remote = await servers.ListByOwnerAsync(userId, cancellationToken);
        return new(
        [
            .. builtIns.All,
            .. (await custom).Select(ResolvedTool.From),
            .. remote.Where(s => s.Status == McpServerStatus.Connected).SelectMany(s => s.Tools.Select(t => ResolvedTool.From(s, t))),
        ], remote);
    }

    /// <summary>
    /// Tool <paramref name="id"/> if the caller may use it: a built-in, a custom tool they may read, or a discovered
    /// tool of a server they own (admins: any server).
    /// </summary>
    public async Task<ResolvedTool?> FindAsync(string id, string userId, bool isAdmin, CancellationToken cancellationToken)
    {
        if (builtIns.Find(id) is { } builtIn)
        {
            return builtIn;
        }

        if (id.StartsWith("tool_", StringComparison.Ordinal))
        {
            var (tool, _) = await registry.GetAsync(id, cancellationToken);
            return tool is not null && tool.CanRead(userId, isAdmin) ? ResolvedTool.From(tool) : null;
        }

        if (McpToolIds.TryParse(id, out var serverId, out var name))
        {
            var server = await servers.GetAsync(serverId, cancellationToken);
            return server is not null && server.CanUse(userId, isAdmin) && server.Tools.FirstOrDefault(t => t.Name == name) is { } tool
                ? ResolvedTool.From(server, tool)
                : null;
        }

        return null;
    }
}

/// <summary>A caller's tools and their registered MCP servers (connected or not).</summary>
public sealed record ToolListing(IReadOnlyList<ResolvedTool> Tools, IReadOnlyList<McpServerRecord> McpServers);

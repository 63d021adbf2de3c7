using System.Security.Claims;
using System.Text.Json;
using AgentVerse.Tools.Registry;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp;

/// <summary>
/// The tools a caller may use over MCP (built-in, custom and discovered), behind which the registry may change freely;
/// <see cref="Server.RegistryToolCatalog"/> serves the registry's tools and the discovered MCP tools.
/// </summary>
public interface IMcpToolCatalog
{
    /// <summary>Every tool <paramref name="caller"/> may use, in a stable order (pages are cut from it).</summary>
    ValueTask<IReadOnlyList<Tool>> ListToolsAsync(ClaimsPrincipal caller, CancellationToken cancellationToken);

    /// <summary>
    /// Runs tool <paramref name="name"/> for <paramref name="caller"/>; <see langword="null"/> when the caller has no such tool.
    /// A tool failure (bad input included) is a result with <c>IsError</c>, not an exception.
    /// </summary>
    ValueTask<CallToolResult?> CallToolAsync(ClaimsPrincipal caller, string name, IReadOnlyDictionary<string, JsonElement> arguments, CancellationToken cancellationToken);
}

/// <summary>
/// Tells open MCP sessions that some callers' tool sets changed, so they send <c>notifications/tools/list_changed</c>.
/// The MCP server registry and the custom-tool registry call it after a create, update or delete.
/// </summary>
public sealed class McpToolListChanges
{
    /// <summary>Raised with a test of which callers (user id, is admin) see a different set now.</summary>
    public event Action<Func<string, bool, bool>>? Changed;

    /// <summary>Signals that <paramref name="userId"/>'s own tools (an MCP server of theirs) changed.</summary>
    public void NotifyChanged(string userId) => Changed?.Invoke((user, _) => user == userId);

    /// <summary>
    /// Signals a custom tool's creation or deletion (<paramref name="after"/> null), or its change from
    /// <paramref name="tool"/> to <paramref name="after"/>: everyone who could read either version is told.
    /// </summary>
    public void NotifyChanged(ToolDefinition tool, ToolDefinition? after = null)
    {
        ArgumentNullException.ThrowIfNull(tool);
        Changed?.Invoke((user, isAdmin) => tool.CanRead(user, isAdmin) || after?.CanRead(user, isAdmin) == true);
    }
}

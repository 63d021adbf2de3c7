using System.Security.Claims;
using System.Text.Json;
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
/// Tells open MCP sessions that a user's tool set changed, so they send <c>notifications/tools/list_changed</c>.
/// The registry calls <see cref="NotifyChanged"/> after a create, update or delete.
/// </summary>
public sealed class McpToolListChanges
{
    /// <summary>Raised with the user id whose tools changed, or <see langword="null"/> when everyone's did.</summary>
    public event Action<string?>? Changed;

    /// <summary>Signals that <paramref name="userId"/>'s tools (everyone's when null) changed.</summary>
    public void NotifyChanged(string? userId) => Changed?.Invoke(userId);
}

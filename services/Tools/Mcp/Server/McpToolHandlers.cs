using System.Globalization;
using System.Reflection;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>The MCP server's <c>tools/list</c> and <c>tools/call</c> over the caller's <see cref="IMcpToolCatalog"/>.</summary>
internal sealed class McpToolHandlers(IMcpToolCatalog catalog, IOptions<McpEndpointOptions> options)
{
    public static Implementation ServerInfo { get; } = new()
    {
        Name = "agentverse-tools",
        Version = typeof(McpToolHandlers).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0",
    };

    public async ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        var tools = await catalog.ListToolsAsync(Caller(request), cancellationToken);
        var offset = ParseCursor(request.Params?.Cursor);
        var size = options.Value.PageSize;
        return new ListToolsResult
        {
            Tools = [.. tools.Skip(offset).Take(size)],
            NextCursor = offset + size < tools.Count ? Cursor(offset + size) : null,
        };
    }

    public async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var name = request.Params?.Name ?? throw new McpProtocolException("Missing tool name.", McpErrorCode.InvalidParams);
        var caller = Caller(request);
        if (caller.IsInRole(AgentVerseRoles.Viewer))
        {
            // Viewers are read-only everywhere; a tool may write (http_request), so they only list.
            return McpResults.Failure("Viewers may list tools but not call them.");
        }

        var arguments = request.Params.Arguments is { } given
            ? given.ToDictionary(StringComparer.Ordinal)
            : new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        return await catalog.CallToolAsync(caller, name, arguments, cancellationToken)
            ?? throw new McpProtocolException($"Unknown tool: '{name}'", McpErrorCode.InvalidParams);
    }

    private static ClaimsPrincipal Caller(MessageContext request) =>
        request.User ?? throw new McpProtocolException("No authenticated caller.", McpErrorCode.InternalError);

    private static string Cursor(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes(offset.ToString(CultureInfo.InvariantCulture)));

    private static int ParseCursor(string? cursor)
    {
        if (cursor is null)
        {
            return 0;
        }

        try
        {
            if (int.TryParse(Encoding.UTF8.GetString(Convert.FromBase64String(cursor)), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
        }

        throw new McpProtocolException("Invalid cursor.", McpErrorCode.InvalidParams);
    }
}

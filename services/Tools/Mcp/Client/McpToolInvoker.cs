using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Tools.BuiltIns;
using AgentVerse.Tools.Execution;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>
/// Runs a discovered tool on its MCP server for <c>POST /api/v1/tools/{id}/execute</c> and turns MCP's
/// <c>CallToolResult</c> into an execution result: the structured content when there is some, else the text,
/// else the content blocks. A tool's <c>isError</c> and an unreachable server are tool errors.
/// </summary>
public sealed class McpToolInvoker(McpConnections connections)
{
    public async Task<JsonNode?> InvokeAsync(McpServerRecord server, string toolName, JsonElement parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var arguments = parameters.ValueKind == JsonValueKind.Object
            ? parameters.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal)
            : new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        CallToolResult result;
        try
        {
            result = await connections.CallToolAsync(server, toolName, arguments, cancellationToken);
        }
        catch (Exception e) when (ResponseTooLargeException.FoundIn(e) is { } tooLarge)
        {
            throw new ToolExecutionException(tooLarge.Message);
        }
        catch (McpProtocolException e)
        {
            throw new ToolExecutionException($"The MCP server refused the call: {e.Message}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or McpException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            throw new ToolExecutionException($"The MCP server '{server.Name}' could not be reached.");
        }

        var text = string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));
        if (result.IsError == true)
        {
            throw new ToolExecutionException(text.Length > 0 ? text : "The MCP tool reported an error.");
        }

        if (result.StructuredContent is { } structured)
        {
            return JsonSerializer.SerializeToNode(structured);
        }

        return result.Content.All(c => c is TextContentBlock)
            ? JsonValue.Create(text)
            : JsonSerializer.SerializeToNode(result.Content, McpJsonUtilities.DefaultOptions);
    }
}

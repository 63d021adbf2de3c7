using System.Diagnostics;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.Tools.Apis;
using AgentVerse.Tools.Execution;
using AgentVerse.Tools.Mcp.Client;
using AgentVerse.Tools.Registry;
using AgentVerse.Tools.Schema;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>
/// The caller's tools over MCP: the built-ins, the custom tools they may read (named by id, titled by name) and the
/// tools discovered on their registered MCP servers (<c>mcp.{server}.{name}</c>). All run through
/// <see cref="ToolExecutor"/>: validated, timed and recorded like <c>/execute</c>.
/// </summary>
internal sealed class RegistryToolCatalog(ToolCatalog catalog, ToolExecutor executor) : IMcpToolCatalog
{
    private static readonly JsonElement EmptyObject = JsonElement.Parse("{}");

    public async ValueTask<IReadOnlyList<Tool>> ListToolsAsync(ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = caller.Caller();
        return [.. (await catalog.ListAsync(userId, isAdmin, cancellationToken)).Tools.Where(IsActive).Select(Describe)];
    }

    public async ValueTask<CallToolResult?> CallToolAsync(ClaimsPrincipal caller, string name, IReadOnlyDictionary<string, JsonElement> arguments, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = caller.Caller();
        var tool = await catalog.FindAsync(name, userId, isAdmin, cancellationToken);
        if (tool is null || !IsActive(tool))
        {
            return null;
        }

        var parameters = arguments.Count == 0 ? EmptyObject : JsonSerializer.SerializeToElement(arguments);
        var errors = JsonSchemaValidator.Validate(tool.InputSchema, parameters, "$");
        if (errors.Count > 0)
        {
            // Input validation failures are tool results the model can act on, not protocol errors.
            return McpResults.Failure(string.Join("\n", errors.Select(e => $"{e.Path}: {e.Message}")));
        }

        var traceId = Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N");
        var response = await executor.ExecuteAsync(tool, parameters, timeoutMs: null, userId, traceId, sessionId: null, cancellationToken);
        if (response.Status != ExecutionStatus.Success)
        {
            return McpResults.Failure(response.Error ?? $"The tool ended with status {response.Status}.");
        }

        if (tool.McpServer is not null && response.Result is JsonArray blocks)
        {
            // A discovered tool's content other than text (images, resources) goes back as the remote sent it.
            return new CallToolResult { Content = blocks.Deserialize<List<ContentBlock>>(McpJsonUtilities.DefaultOptions) ?? [] };
        }

        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = response.Result is JsonValue value && value.TryGetValue<string>(out var text) ? text : response.Result?.ToJsonString() ?? "null" }],
            StructuredContent = response.Result is JsonObject structured ? JsonSerializer.SerializeToElement(structured) : null,
        };
    }

    private static bool IsActive(ResolvedTool tool) => tool.Custom is null or { Status: "active" };

    private static Tool Describe(ResolvedTool tool) => new()
    {
        Name = tool.Id,
        Title = tool.McpServer is { } server ? $"{server.Name}: {tool.Name}" : tool.Name == tool.Id ? null : tool.Name,
        Description = tool.Description,
        InputSchema = tool.InputSchema,
        // Structured content is only sent for object results, so only an object schema is advertised.
        OutputSchema = tool.OutputSchema is { ValueKind: JsonValueKind.Object } schema
            && schema.TryGetProperty("type", out var type) && type.ValueEquals("object") ? schema : null,
    };
}

/// <summary>Shapes of <see cref="CallToolResult"/> shared by the catalogs.</summary>
internal static class McpResults
{
    public static CallToolResult Failure(string message) => new() { Content = [new TextContentBlock { Text = message }], IsError = true };
}

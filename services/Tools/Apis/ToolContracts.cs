using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Tools.Execution;
using AgentVerse.Tools.Mcp.Client;
using AgentVerse.Tools.Registry;
using AgentVerse.Tools.Schema;

namespace AgentVerse.Tools.Apis;

/// <summary>The seed's <c>ListToolsResponse</c>.</summary>
public sealed record ListToolsResponse(IReadOnlyList<ToolView> Tools, int Total, IReadOnlyList<McpServerSummary> McpServers, int Page, int PageSize);

/// <summary>An entry of the seed's <c>mcpServers[]</c>: one of the caller's registered MCP servers.</summary>
public sealed record McpServerSummary(string Id, string Name, string Url, string Status, int ToolCount, IReadOnlyList<string> Capabilities)
{
    public static McpServerSummary From(McpServerRecord server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return new(server.Id, server.Name, server.Url, server.Status, server.Tools.Count, server.Capabilities);
    }
}

/// <summary>One parameter in the seed's flattened shape (the full JSON Schema is in <see cref="ToolView.InputSchema"/>).</summary>
public sealed record ToolParameter(string Type, string Description, bool Required, JsonNode? Example);

public sealed record ToolOutput(string Type, string Description, JsonNode? Example);

/// <summary>A tool as returned by the API: never the API key, only whether one is set.</summary>
public sealed record ToolView(
    string Id,
    string Name,
    string Description,
    string Type,
    IReadOnlyDictionary<string, ToolParameter> Parameters,
    ToolOutput Output,
    JsonElement InputSchema,
    JsonElement? OutputSchema,
    string? ServerUrl,
    string HealthUrl,
    string Status,
    DateTimeOffset LastUpdated,
    string Version,
    IReadOnlyList<string> Capabilities,
    string? OwnerId,
    string Visibility,
    IReadOnlyList<string>? SharedWith,
    string? Endpoint,
    string? Method,
    bool HasApiKey)
{
    private static readonly DateTimeOffset BuiltInSince = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static ToolView From(ResolvedTool tool, string viewerId)
    {
        ArgumentNullException.ThrowIfNull(tool);
        var custom = tool.Custom;
        if (tool.McpServer is { } server)
        {
            return new(
                tool.Id, tool.Name, tool.Description, tool.Type, ParametersOf(tool.InputSchema), OutputOf(tool.OutputSchema),
                tool.InputSchema, tool.OutputSchema, server.Url, $"/api/v1/mcp/servers/{server.Id}",
                server.Status switch { McpServerStatus.Connected => "active", McpServerStatus.Error => "error", _ => "inactive" },
                server.UpdatedAt, tool.Version, tool.Capabilities, server.OwnerId, ToolVisibility.Private, null, null, null, server.EncryptedApiKey is not null);
        }

        return new(
            tool.Id,
            tool.Name,
            tool.Description,
            tool.Type,
            ParametersOf(tool.InputSchema),
            OutputOf(tool.OutputSchema),
            tool.InputSchema,
            tool.OutputSchema,
            null,
            custom is null ? "/healthz" : custom.Endpoint,
            custom?.Status ?? "active",
            custom?.UpdatedAt ?? BuiltInSince,
            tool.Version,
            tool.Capabilities,
            custom?.OwnerId,
            custom?.Visibility ?? ToolVisibility.Public,
            // Who else a tool is shared with is the owner's business.
            custom is not null && custom.OwnerId == viewerId ? custom.SharedWith : null,
            custom?.Endpoint,
            custom?.Method,
            custom?.EncryptedApiKey is not null);
    }

    private static Dictionary<string, ToolParameter> ParametersOf(JsonElement schema)
    {
        var parameters = new Dictionary<string, ToolParameter>(StringComparer.Ordinal);
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return parameters;
        }

        var required = schema.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Select(e => e.ToString()).ToHashSet(StringComparer.Ordinal)
            : [];
        foreach (var property in properties.EnumerateObject())
        {
            var p = property.Value;
            parameters[property.Name] = new ToolParameter(
                TypeOf(p),
                p.ValueKind == JsonValueKind.Object && p.TryGetProperty("description", out var d) ? d.ToString() : "",
                required.Contains(property.Name),
                p.ValueKind == JsonValueKind.Object && p.TryGetProperty("example", out var e) ? JsonNode.Parse(e.GetRawText()) : null);
        }

        return parameters;
    }

    private static ToolOutput OutputOf(JsonElement? schema) => schema is { ValueKind: JsonValueKind.Object } s
        ? new ToolOutput(TypeOf(s), s.TryGetProperty("description", out var d) ? d.ToString() : "", s.TryGetProperty("example", out var e) ? JsonNode.Parse(e.GetRawText()) : null)
        : new ToolOutput("object", "", null);

    private static string TypeOf(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("type", out var t)
            ? t.ValueKind == JsonValueKind.Array ? string.Join('|', t.EnumerateArray().Select(x => x.ToString())) : t.ToString()
            : "any";
}

/// <summary>Body of <c>POST /api/v1/tools</c> and <c>PUT /api/v1/tools/{id}</c> (a custom HTTP tool).</summary>
public sealed record RegisterToolRequest(
    string? Name,
    string? Description,
    JsonElement? InputSchema,
    JsonElement? OutputSchema,
    string? Endpoint,
    string? Method,
    string? ApiKey,
    string? ApiKeyHeader,
    string? Visibility,
    IReadOnlyList<string>? SharedWith,
    string? Status)
{
    private static readonly string[] Methods = ["GET", "POST", "PUT"];
    private static readonly string[] Statuses = ["active", "inactive"];

    /// <summary>Field errors, keyed by JSON path; empty when valid.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100)
        {
            errors["$.name"] = ["A name of 1 to 100 characters is required."];
        }

        if (Description?.Length > 2_000)
        {
            errors["$.description"] = ["At most 2000 characters."];
        }

        if (InputSchema is { } input && input.ValueKind != JsonValueKind.Object)
        {
            errors["$.inputSchema"] = ["The input schema must be a JSON Schema object."];
        }
        else if (InputSchema is { } schema && schema.GetRawText().Length > 64 * 1024)
        {
            errors["$.inputSchema"] = ["The input schema is larger than 64 KiB."];
        }
        else if (InputSchema is { } usable && JsonSchemaValidator.Problem(usable) is { } problem)
        {
            errors["$.inputSchema"] = [problem];
        }

        if (OutputSchema is { } output && output.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            errors["$.outputSchema"] = ["The output schema must be a JSON Schema object."];
        }
        else if (OutputSchema is { ValueKind: JsonValueKind.Object } outputSchema && outputSchema.GetRawText().Length > 64 * 1024)
        {
            errors["$.outputSchema"] = ["The output schema is larger than 64 KiB."];
        }
        else if (OutputSchema is { ValueKind: JsonValueKind.Object } usableOutput && JsonSchemaValidator.Problem(usableOutput) is { } outputProblem)
        {
            errors["$.outputSchema"] = [outputProblem];
        }

        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(endpoint.UserInfo) || Endpoint!.Length > 2048)
        {
            errors["$.endpoint"] = ["An absolute http(s) URL without credentials is required."];
        }

        if (Method is not null && !Methods.Contains(Method.ToUpperInvariant()))
        {
            errors["$.method"] = ["One of GET, POST, PUT."];
        }

        if (ApiKey is { Length: > 4096 })
        {
            errors["$.apiKey"] = ["At most 4096 characters."];
        }

        if (ApiKeyHeader is not null && (ApiKeyHeader.Length is 0 or > 100 || !ApiKeyHeader.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            errors["$.apiKeyHeader"] = ["A header name of letters, digits and '-'."];
        }

        if (Visibility is not null && !ToolVisibility.All.Contains(Visibility))
        {
            errors["$.visibility"] = ["One of private, shared, public."];
        }

        if (SharedWith is { Count: > 100 } || SharedWith?.Any(string.IsNullOrWhiteSpace) == true)
        {
            errors["$.sharedWith"] = ["At most 100 non-empty user ids."];
        }

        if (Status is not null && !Statuses.Contains(Status))
        {
            errors["$.status"] = ["One of active, inactive."];
        }

        return errors;
    }
}

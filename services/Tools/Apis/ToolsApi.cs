using System.Diagnostics;
using System.Security.Claims;
using System.Text.Json;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.Tools.Execution;
using AgentVerse.Tools.Mcp;
using AgentVerse.Tools.Registry;
using AgentVerse.Tools.Schema;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Apis;

/// <summary>
/// <c>/api/v1/tools</c>: the registry (built-ins plus custom HTTP tools owned by a user, shared or public) and
/// execution. Every call checks access: another user's private tool is a 404, never a 403 (OWASP API1).
/// </summary>
public static class ToolsApi
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();
    private static readonly JsonElement AnyObjectSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement.Clone();

    public static IEndpointRouteBuilder MapToolsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/tools").RequireAuthorization(AgentVersePolicies.Viewer).WithTags("Tools");
        api.MapGet("/", ListAsync);
        api.MapPost("/", RegisterAsync);
        api.MapGet("/{id}", GetAsync);
        api.MapPut("/{id}", UpdateAsync);
        api.MapDelete("/{id}", DeleteAsync);
        api.MapPost("/{toolId}/execute", ExecuteAsync);
        api.MapExecutionsApi();
        return app;
    }

    public static async Task<Ok<ListToolsResponse>> ListAsync(
        ClaimsPrincipal user, ToolCatalog catalog, CancellationToken cancellationToken,
        string? type = null, string? search = null, int page = 1, int pageSize = 50)
    {
        var (userId, isAdmin) = user.Caller();
        page = Math.Max(page, 1);
        pageSize = Math.Clamp(pageSize, 1, 200);
        var listing = await catalog.ListAsync(userId, isAdmin, cancellationToken);
        var matching = listing.Tools
            .Where(t => type is null || string.Equals(t.Type, type, StringComparison.OrdinalIgnoreCase))
            .Where(t => string.IsNullOrWhiteSpace(search)
                || t.Name.Contains(search, StringComparison.OrdinalIgnoreCase)
                || t.Description.Contains(search, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var tools = matching.Skip((page - 1) * pageSize).Take(pageSize).Select(t => ToolView.From(t, userId)).ToList();
        return TypedResults.Ok(new ListToolsResponse(tools, matching.Count, [.. listing.McpServers.Select(McpServerSummary.From)], page, pageSize));
    }

    public static async Task<Results<Ok<ToolView>, NotFound>> GetAsync(
        string id, ClaimsPrincipal user, ToolCatalog catalog, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = user.Caller();
        return await catalog.FindAsync(id, userId, isAdmin, cancellationToken) is { } tool
            ? TypedResults.Ok(ToolView.From(tool, userId))
            : TypedResults.NotFound();
    }

    public static async Task<Results<Created<ToolView>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterToolRequest request, ClaimsPrincipal user, ToolRegistry registry, ApiKeyProtector protector, McpToolListChanges changes,
        AddressPolicy policy, IOptions<ToolsOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = await ValidateAsync(request, policy, cancellationToken);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var (userId, _) = user.Caller();
        if (await registry.CountOwnedAsync(userId, cancellationToken) >= options.Value.MaxToolsPerUser)
        {
            return TypedResults.Problem($"At most {options.Value.MaxToolsPerUser} tools per user.", statusCode: StatusCodes.Status409Conflict);
        }

        var id = $"tool_{Guid.NewGuid():N}";
        var now = time.GetUtcNow();
        var tool = new ToolDefinition
        {
            Id = id,
            Name = request.Name!.Trim(),
            Description = request.Description ?? "",
            InputSchema = request.InputSchema ?? AnyObjectSchema,
            OutputSchema = request.OutputSchema is { ValueKind: JsonValueKind.Object } output ? output : null,
            Endpoint = request.Endpoint!,
            Method = (request.Method ?? "POST").ToUpperInvariant(),
            ApiKeyHeader = request.ApiKeyHeader ?? "X-API-Key",
            EncryptedApiKey = string.IsNullOrEmpty(request.ApiKey) ? null : await protector.EncryptAsync(id, request.ApiKey, cancellationToken),
            OwnerId = userId,
            Visibility = request.Visibility ?? ToolVisibility.Private,
            SharedWith = request.SharedWith ?? [],
            Status = request.Status ?? "active",
            CreatedAt = now,
            UpdatedAt = now,
        };
        await registry.CreateAsync(tool, cancellationToken);
        changes.NotifyChanged(tool);
        return TypedResults.Created($"/api/v1/tools/{id}", ToolView.From(ResolvedTool.From(tool), userId));
    }

    public static async Task<Results<Ok<ToolView>, NotFound, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string id, RegisterToolRequest request, ClaimsPrincipal user, ToolCatalog catalog, ToolRegistry registry, ApiKeyProtector protector,
        McpToolListChanges changes, AddressPolicy policy, TimeProvider time, CancellationToken cancellationToken)
    {
        var (userId, _) = user.Caller();
        var (tool, etag, refusal) = await FindWritableAsync(id, user, catalog, registry, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (tool is null)
        {
            return TypedResults.NotFound();
        }

        var errors = await ValidateAsync(request, policy, cancellationToken);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var updated = tool with
        {
            Name = request.Name!.Trim(),
            Description = request.Description ?? "",
            InputSchema = request.InputSchema ?? AnyObjectSchema,
            OutputSchema = request.OutputSchema is { ValueKind: JsonValueKind.Object } output ? output : null,
            Endpoint = request.Endpoint!,
            Method = (request.Method ?? "POST").ToUpperInvariant(),
            ApiKeyHeader = request.ApiKeyHeader ?? tool.ApiKeyHeader,
            // Omitted keeps the key, "" removes it.
            EncryptedApiKey = request.ApiKey switch
            {
                null => tool.EncryptedApiKey,
                "" => null,
                var key => await protector.EncryptAsync(id, key, cancellationToken),
            },
            Visibility = request.Visibility ?? tool.Visibility,
            SharedWith = request.SharedWith ?? tool.SharedWith,
            Status = request.Status ?? tool.Status,
            Version = tool.Version + 1,
            UpdatedAt = time.GetUtcNow(),
        };
        if (!await registry.TryUpdateAsync(tool, updated, etag, cancellationToken))
        {
            return TypedResults.Problem("The tool was changed concurrently; read it again.", statusCode: StatusCodes.Status409Conflict);
        }

        changes.NotifyChanged(tool, updated);
        return TypedResults.Ok(ToolView.From(ResolvedTool.From(updated), userId));
    }

    public static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteAsync(
        string id, ClaimsPrincipal user, ToolCatalog catalog, ToolRegistry registry, McpToolListChanges changes, CancellationToken cancellationToken)
    {
        var (tool, _, refusal) = await FindWritableAsync(id, user, catalog, registry, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (tool is null)
        {
            return TypedResults.NotFound();
        }

        await registry.DeleteAsync(tool, cancellationToken);
        changes.NotifyChanged(tool);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<ExecuteToolResponse>, NotFound, ValidationProblem, ProblemHttpResult>> ExecuteAsync(
        string toolId, ExecuteToolRequest request, ClaimsPrincipal user, HttpContext http, ToolCatalog catalog,
        ToolExecutor executor, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = user.Caller();
        var tool = await catalog.FindAsync(toolId, userId, isAdmin, cancellationToken);
        if (tool is null)
        {
            return TypedResults.NotFound();
        }

        if (tool.Custom is { Status: not "active" })
        {
            return TypedResults.Problem("The tool is not active.", statusCode: StatusCodes.Status409Conflict);
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.Timeout is <= 0)
        {
            errors["$.timeout"] = ["The timeout must be a positive number of milliseconds."];
        }

        var parameters = request.Parameters is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } p ? p : EmptyObject;
        foreach (var group in JsonSchemaValidator.Validate(tool.InputSchema, parameters, "$.parameters").GroupBy(e => e.Path))
        {
            errors[group.Key] = [.. group.Select(e => e.Message)];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The arguments do not match the tool's input schema.");
        }

        var traceId = Activity.Current?.TraceId.ToHexString() ?? request.Context?.TraceId ?? http.TraceIdentifier;
        return TypedResults.Ok(await executor.ExecuteAsync(tool, parameters, request.Timeout, userId, traceId, request.Context?.SessionId, cancellationToken));
    }

    /// <summary>The request's field errors, and an endpoint the outbound policy would refuse.</summary>
    private static async Task<Dictionary<string, string[]>> ValidateAsync(RegisterToolRequest request, AddressPolicy policy, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        if (!errors.ContainsKey("$.endpoint") && await policy.RefusalAsync(new Uri(request.Endpoint!), cancellationToken) is { } refusal)
        {
            errors["$.endpoint"] = [refusal];
        }

        return errors;
    }

    /// <summary>
    /// The custom tool <paramref name="id"/> for a change by the caller: a 403 when they can see it but may not change
    /// it (not the owner, or a built-in or discovered tool, changed elsewhere if at all); no tool and no refusal when
    /// they cannot see it (a 404, so ids do not leak).
    /// </summary>
    private static async Task<(ToolDefinition? Tool, string ETag, ProblemHttpResult? Refusal)> FindWritableAsync(
        string id, ClaimsPrincipal user, ToolCatalog catalog, ToolRegistry registry, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = user.Caller();
        if (!id.StartsWith("tool_", StringComparison.Ordinal))
        {
            return await catalog.FindAsync(id, userId, isAdmin, cancellationToken) is { } other
                ? (null, "", Forbidden(other.McpServer is null ? "Built-in tools cannot be changed." : "MCP tools are managed through /api/v1/mcp/servers."))
                : (null, "", null);
        }

        var (tool, etag) = await registry.GetAsync(id, cancellationToken);
        if (tool is null || !tool.CanRead(userId, isAdmin))
        {
            return (null, "", null);
        }

        return tool.CanWrite(userId, isAdmin) ? (tool, etag, null) : (null, "", Forbidden("Only the tool's owner may change or delete it."));
    }

    private static ProblemHttpResult Forbidden(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden);
}

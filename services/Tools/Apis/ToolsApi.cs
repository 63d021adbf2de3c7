using System.Diagnostics;
using System.Security.Claims;
using System.Text.Json;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.Tools.Execution;
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
        return app;
    }

    public static async Task<Ok<ListToolsResponse>> ListAsync(
        ClaimsPrincipal user, BuiltInCatalog builtIns, ToolRegistry registry, CancellationToken cancellationToken,
        string? type = null, string? search = null, int page = 1, int pageSize = 50)
    {
        var (userId, isAdmin) = Caller(user);
        page = Math.Max(page, 1);
        pageSize = Math.Clamp(pageSize, 1, 200);
        var custom = await registry.ListAsync(cancellationToken);
        var matching = builtIns.All
            .Concat(custom.Where(t => t.CanRead(userId, isAdmin)).OrderBy(t => t.CreatedAt).Select(ResolvedTool.From))
            .Where(t => type is null || string.Equals(t.Type, type, StringComparison.OrdinalIgnoreCase))
            .Where(t => string.IsNullOrWhiteSpace(search)
                || t.Name.Contains(search, StringComparison.OrdinalIgnoreCase)
                || t.Description.Contains(search, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var tools = matching.Skip((page - 1) * pageSize).Take(pageSize).Select(t => ToolView.From(t, userId)).ToList();
        return TypedResults.Ok(new ListToolsResponse(tools, matching.Count, [], page, pageSize));
    }

    public static async Task<Results<Ok<ToolView>, NotFound>> GetAsync(
        string id, ClaimsPrincipal user, BuiltInCatalog builtIns, ToolRegistry registry, CancellationToken cancellationToken)
    {
        var (userId, _) = Caller(user);
        return await ResolveAsync(id, user, builtIns, registry, cancellationToken) is { } tool
            ? TypedResults.Ok(ToolView.From(tool, userId))
            : TypedResults.NotFound();
    }

    public static async Task<Results<Created<ToolView>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterToolRequest request, ClaimsPrincipal user, BuiltInCatalog builtIns, ToolRegistry registry, ApiKeyProtector protector,
        IOptions<ToolsOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var (userId, _) = Caller(user);
        var existing = await registry.ListAsync(cancellationToken);
        if (existing.Count(t => t.OwnerId == userId) >= options.Value.MaxToolsPerUser)
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
        return TypedResults.Created($"/api/v1/tools/{id}", ToolView.From(ResolvedTool.From(tool), userId));
    }

    public static async Task<Results<Ok<ToolView>, NotFound, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string id, RegisterToolRequest request, ClaimsPrincipal user, BuiltInCatalog builtIns, ToolRegistry registry, ApiKeyProtector protector,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = Caller(user);
        if (builtIns.Find(id) is not null)
        {
            return TypedResults.Problem("Built-in tools cannot be changed.", statusCode: StatusCodes.Status403Forbidden);
        }

        var (tool, etag) = await registry.GetAsync(id, cancellationToken);
        if (tool is null || !tool.CanRead(userId, isAdmin))
        {
            return TypedResults.NotFound();
        }

        if (!tool.CanWrite(userId, isAdmin))
        {
            return TypedResults.Problem("Only the tool's owner may change it.", statusCode: StatusCodes.Status403Forbidden);
        }

        var errors = request.Validate();
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
        return await registry.TryUpdateAsync(updated, etag, cancellationToken)
            ? TypedResults.Ok(ToolView.From(ResolvedTool.From(updated), userId))
            : TypedResults.Problem("The tool was changed concurrently; read it again.", statusCode: StatusCodes.Status409Conflict);
    }

    public static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteAsync(
        string id, ClaimsPrincipal user, BuiltInCatalog builtIns, ToolRegistry registry, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = Caller(user);
        if (builtIns.Find(id) is not null)
        {
            return TypedResults.Problem("Built-in tools cannot be deleted.", statusCode: StatusCodes.Status403Forbidden);
        }

        var (tool, _) = await registry.GetAsync(id, cancellationToken);
        if (tool is null || !tool.CanRead(userId, isAdmin))
        {
            return TypedResults.NotFound();
        }

        if (!tool.CanWrite(userId, isAdmin))
        {
            return TypedResults.Problem("Only the tool's owner may delete it.", statusCode: StatusCodes.Status403Forbidden);
        }

        await registry.DeleteAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<ExecuteToolResponse>, NotFound, ValidationProblem, ProblemHttpResult>> ExecuteAsync(
        string toolId, ExecuteToolRequest request, ClaimsPrincipal user, HttpContext http, BuiltInCatalog builtIns, ToolRegistry registry,
        ToolExecutor executor, CancellationToken cancellationToken)
    {
        var tool = await ResolveAsync(toolId, user, builtIns, registry, cancellationToken);
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
        var (userId, _) = Caller(user);
        return TypedResults.Ok(await executor.ExecuteAsync(tool, parameters, request.Timeout, userId, traceId, request.Context?.SessionId, cancellationToken));
    }

    private static async Task<ResolvedTool?> ResolveAsync(
        string id, ClaimsPrincipal user, BuiltInCatalog builtIns, ToolRegistry registry, CancellationToken cancellationToken)
    {
        if (builtIns.Find(id) is { } builtIn)
        {
            return builtIn;
        }

        if (!id.StartsWith("tool_", StringComparison.Ordinal))
        {
            return null;
        }

        var (userId, isAdmin) = Caller(user);
        var (tool, _) = await registry.GetAsync(id, cancellationToken);
        return tool is not null && tool.CanRead(userId, isAdmin) ? ResolvedTool.From(tool) : null;
    }

    private static (string UserId, bool IsAdmin) Caller(ClaimsPrincipal user) =>
        (user.FindFirstValue(AgentVerseClaims.Subject) ?? throw new InvalidOperationException("An authenticated caller has a subject."),
         user.IsInRole(AgentVerseRoles.Admin));
}

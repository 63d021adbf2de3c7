using System.Security.Claims;
using System.Text.Json;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.Tools.Registry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>
/// <c>/api/v1/mcp/servers</c>: register remote MCP servers, whose tools become <c>mcp</c> tools of their owner;
/// list them with status and tool counts, refresh, delete, and call a discovered tool.
/// </summary>
public static class McpServersApi
{
    public static IEndpointRouteBuilder MapMcpServersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/mcp/servers").RequireAuthorization(AgentVersePolicies.Viewer).WithTags("MCP servers");
        api.MapPost("/", RegisterAsync).RequireAuthorization(AgentVersePolicies.User);
        api.MapGet("/", ListAsync);
        api.MapGet("/{id}", GetAsync);
        api.MapPost("/{id}/refresh", RefreshAsync).RequireAuthorization(AgentVersePolicies.User);
        api.MapDelete("/{id}", DeleteAsync).RequireAuthorization(AgentVersePolicies.User);
        // Until the execute endpoint runs mcp tools itself: call a discovered tool directly.
        api.MapPost("/{id}/tools/{name}/call", CallToolAsync).RequireAuthorization(AgentVersePolicies.User);
        return app;
    }

    public static async Task<Results<Created<McpServerView>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterMcpServerRequest request, ClaimsPrincipal user, McpServerStore store, McpConnections connections, ApiKeyProtector keys,
        McpToolListChanges changes, IOptions<McpClientSettings> settings, TimeProvider time, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = Caller(user);
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            errors["name"] = ["A name is required."];
        }

        var stdio = request.Command is { Count: > 0 };
        Uri? url = null;
        if (stdio)
        {
            if (!isAdmin || !settings.Value.StdioEnabled)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Stdio servers are for admins",
                    detail: "Only admins may register a stdio MCP server (a command the tools service runs).");
            }
        }
        else if (!Uri.TryCreate(request.Url, UriKind.Absolute, out url))
        {
            errors["url"] = ["An absolute http or https URL is required."];
        }
        else if (await connections.RefusalAsync(url, cancellationToken) is { } refusal)
        {
            errors["url"] = [refusal];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if ((await store.ListByOwnerAsync(userId, cancellationToken)).Count >= settings.Value.MaxServersPerUser)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Too many MCP servers",
                detail: $"A user may register at most {settings.Value.MaxServersPerUser} MCP servers.");
        }

        var id = Guid.CreateVersion7().ToString("N");
        var now = time.GetUtcNow();
        var server = new McpServerRecord
        {
            Id = id,
            Name = request.Name.Trim(),
            Url = stdio ? $"stdio:{request.Command![0]}" : url!.ToString(),
            Description = request.Description ?? "",
            AutoDiscovery = request.AutoDiscovery,
            Command = request.Command ?? [],
            EncryptedApiKey = string.IsNullOrEmpty(request.ApiKey) ? null : await keys.EncryptAsync(id, request.ApiKey, cancellationToken),
            OwnerId = userId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        server = await ConnectAsync(server, connections, time, cancellationToken);
        await store.CreateAsync(server, cancellationToken);
        changes.NotifyChanged(userId);
        return TypedResults.Created($"/api/v1/mcp/servers/{id}", McpServerView.From(server));
    }

    public static async Task<Ok<McpServerList>> ListAsync(ClaimsPrincipal user, McpServerStore store, CancellationToken cancellationToken)
    {
        var servers = await store.ListByOwnerAsync(Caller(user).UserId, cancellationToken);
        return TypedResults.Ok(new McpServerList([.. servers.Select(McpServerView.From)], servers.Count));
    }

    public static async Task<Results<Ok<McpServerView>, NotFound>> GetAsync(string id, ClaimsPrincipal user, McpServerStore store, CancellationToken cancellationToken) =>
        await FindAsync(id, user, store, cancellationToken) is { } server ? TypedResults.Ok(McpServerView.From(server)) : TypedResults.NotFound();

    public static async Task<Results<Ok<McpServerView>, NotFound>> RefreshAsync(
        string id, ClaimsPrincipal user, McpServerStore store, McpConnections connections, McpToolListChanges changes, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, user, store, cancellationToken) is not { } server)
        {
            return TypedResults.NotFound();
        }

        await connections.ForgetAsync(id);
        server = await ConnectAsync(server with { UpdatedAt = time.GetUtcNow() }, connections, time, cancellationToken, discover: true);
        await store.SaveAsync(server, cancellationToken);
        changes.NotifyChanged(server.OwnerId);
        return TypedResults.Ok(McpServerView.From(server));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteAsync(
        string id, ClaimsPrincipal user, McpServerStore store, McpConnections connections, McpToolListChanges changes, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, user, store, cancellationToken) is not { } server)
        {
            return TypedResults.NotFound();
        }

        await store.DeleteAsync(server, cancellationToken);
        await connections.ForgetAsync(id);
        changes.NotifyChanged(server.OwnerId);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<McpToolCallResponse>, NotFound, ProblemHttpResult>> CallToolAsync(
        string id, string name, CallMcpToolRequest request, ClaimsPrincipal user, McpToolSource tools, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = Caller(user);
        if (await tools.ResolveAsync(McpToolIds.For(id, name), userId, isAdmin, cancellationToken) is not { Server: var server })
        {
            return TypedResults.NotFound();
        }

        var result = await tools.ExecuteAsync(server, name, request.Arguments, cancellationToken);
        return result is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "MCP server unavailable", detail: $"The MCP server '{server.Name}' could not be reached.")
            : TypedResults.Ok(result);
    }

    /// <summary>Connects, lists the tools (when auto-discovery is on or <paramref name="discover"/>) and records the outcome.</summary>
    private static async Task<McpServerRecord> ConnectAsync(McpServerRecord server, McpConnections connections, TimeProvider time, CancellationToken cancellationToken, bool discover = false)
    {
        try
        {
            await using var client = await connections.OpenAsync(server, cancellationToken);
            var tools = server.AutoDiscovery || discover ? await McpConnections.DiscoverAsync(client, cancellationToken) : server.Tools;
            return server with
            {
                Status = McpServerStatus.Connected,
                Error = null,
                ProtocolVersion = client.NegotiatedProtocolVersion,
                Capabilities = Capabilities(client),
                Tools = tools,
                UpdatedAt = time.GetUtcNow(),
            };
        }
        catch (Exception e) when (e is HttpRequestException or IOException or McpException or OperationCanceledException or InvalidOperationException
            && !cancellationToken.IsCancellationRequested)
        {
            return server with { Status = McpServerStatus.Error, Error = $"Connecting failed: {e.Message}", UpdatedAt = time.GetUtcNow() };
        }
    }

    private static List<string> Capabilities(McpClient client)
    {
        var capabilities = client.ServerCapabilities;
        var names = new List<string>();
        if (capabilities.Tools is not null) names.Add("tools");
        if (capabilities.Resources is not null) names.Add("resources");
        if (capabilities.Prompts is not null) names.Add("prompts");
        if (capabilities.Completions is not null) names.Add("completions");
        return names;
    }

    private static async Task<McpServerRecord?> FindAsync(string id, ClaimsPrincipal user, McpServerStore store, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = Caller(user);
        var server = await store.GetAsync(id, cancellationToken);
        return server is not null && (server.OwnerId == userId || isAdmin) ? server : null;
    }

    private static (string UserId, bool IsAdmin) Caller(ClaimsPrincipal user) =>
        (user.FindFirstValue(AgentVerseClaims.Subject) ?? throw new InvalidOperationException("An authenticated caller has a subject."),
         user.IsInRole(AgentVerseRoles.Admin));
}

/// <summary>Runs a discovered tool and shapes its result; shared by the call endpoint and the tool sources.</summary>
public static class McpToolInvocation
{
    /// <summary>The remote result, or <see langword="null"/> when the server cannot be reached.</summary>
    public static async Task<McpToolCallResponse?> CallAsync(McpConnections connections, McpServerRecord server, string name, JsonElement? arguments, CancellationToken cancellationToken)
    {
        var args = arguments is { ValueKind: JsonValueKind.Object } given
            ? given.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal)
            : new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        try
        {
            var result = await connections.CallToolAsync(server, name, args, cancellationToken);
            var content = result.Content.Select(c => JsonSerializer.SerializeToElement(c, McpJsonUtilities.DefaultOptions)).ToList();
            var text = string.Join("\n", result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(t => t.Text));
            return new McpToolCallResponse(McpToolIds.For(server.Id, name), result.IsError == true, content, result.StructuredContent, text.Length > 0 ? text : null);
        }
        catch (McpProtocolException e)
        {
            return new McpToolCallResponse(McpToolIds.For(server.Id, name), true, [], null, e.Message);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or McpException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}

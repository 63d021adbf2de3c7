using System.Security.Claims;
using System.Text.Json;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.Tools.Apis;
using AgentVerse.Tools.Execution;
using AgentVerse.Tools.Registry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>
/// <c>/api/v1/mcp/servers</c>: register remote MCP servers, whose tools become <c>mcp</c> tools of their owner;
/// list them with status and tool counts, refresh and delete. Discovered tools run through
/// <c>POST /api/v1/tools/{id}/execute</c> like every other tool.
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
        return app;
    }

    public static async Task<Results<Created<McpServerView>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterMcpServerRequest request, ClaimsPrincipal user, McpServerStore store, McpConnections connections, AddressPolicy policy, ApiKeyProtector keys,
        McpToolListChanges changes, IOptions<McpClientSettings> settings, TimeProvider time, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = user.Caller();
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
        else if (await policy.RefusalAsync(url, cancellationToken) is { } refusal)
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
        var servers = await store.ListByOwnerAsync(user.Caller().UserId, cancellationToken);
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
        catch (Exception e) when ((e is HttpRequestException or IOException or McpException or OperationCanceledException or InvalidOperationException
            || ResponseTooLargeException.FoundIn(e) is not null) && !cancellationToken.IsCancellationRequested)
        {
            var reason = ResponseTooLargeException.FoundIn(e)?.Message ?? e.Message;
            return server with { Status = McpServerStatus.Error, Error = $"Connecting failed: {reason}", UpdatedAt = time.GetUtcNow() };
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
        var (userId, isAdmin) = user.Caller();
        var server = await store.GetAsync(id, cancellationToken);
        return server is not null && server.CanUse(userId, isAdmin) ? server : null;
    }
}

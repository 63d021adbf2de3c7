using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>
/// <c>/mcp</c>: MCP over Streamable HTTP. Clients that <c>initialize</c> (2025-11-25 and earlier) get a session
/// (<c>Mcp-Session-Id</c>, GET stream, DELETE) bound to their user; 2026-07-28 clients are served statelessly,
/// one server per POST. Every request needs a gateway-issued bearer token.
/// </summary>
internal static class McpServerApi
{
    public const string Path = "/mcp";
    public const string SessionIdHeader = "Mcp-Session-Id";
    public const string ProtocolVersionHeader = "MCP-Protocol-Version";
    public const string MethodHeader = "Mcp-Method";
    public const string NameHeader = "Mcp-Name";
    public const string StatelessVersion = "2026-07-28";

    /// <summary>Versions the C# SDK 2.3.1 speaks; anything else in the header gets 400.</summary>
    public static readonly IReadOnlySet<string> SupportedVersions =
        new HashSet<string>(StringComparer.Ordinal) { "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", StatelessVersion };

    private static readonly HashSet<string> StatefulOnlyMethods = new(StringComparer.Ordinal)
    {
        RequestMethods.Initialize, RequestMethods.Ping, "logging/setLevel",
        RequestMethods.ResourcesSubscribe, RequestMethods.ResourcesUnsubscribe,
    };

    public static IEndpointRouteBuilder MapMcpServer(this IEndpointRouteBuilder app)
    {
        var mcp = app.MapGroup(Path).WithTags("MCP").ExcludeFromDescription()
            .RequireAuthorization(AgentVersePolicies.Authenticated)
            .AddEndpointFilter(async (context, next) =>
                RejectedOrigin(context.HttpContext) is { } rejected ? rejected : await next(context));
        mcp.MapPost("", PostAsync);
        mcp.MapGet("", GetAsync);
        mcp.MapDelete("", DeleteAsync);
        return app;
    }

    private static async Task<IResult> PostAsync(HttpContext http, McpSessions sessions, McpServerFactory servers, ILoggerFactory loggerFactory)
    {
        var accept = http.Request.Headers.Accept.ToString();
        if (!accept.Contains("application/json", StringComparison.OrdinalIgnoreCase) || !accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return JsonRpcError(StatusCodes.Status406NotAcceptable, McpErrorCode.InvalidRequest, "Accept must list both application/json and text/event-stream.");
        }

        JsonRpcMessage? message;
        try
        {
            message = await http.Request.ReadFromJsonAsync<JsonRpcMessage>(McpJsonUtilities.DefaultOptions, http.RequestAborted);
        }
        catch (JsonException)
        {
            return JsonRpcError(StatusCodes.Status400BadRequest, McpErrorCode.ParseError, "The body is not one JSON-RPC message.");
        }

        if (message is null)
        {
            return JsonRpcError(StatusCodes.Status400BadRequest, McpErrorCode.InvalidRequest, "The body is not one JSON-RPC message.");
        }

        var version = http.Request.Headers[ProtocolVersionHeader].ToString();
        if (version.Length > 0 && !SupportedVersions.Contains(version))
        {
            return JsonRpcError(StatusCodes.Status400BadRequest, McpErrorCode.UnsupportedProtocolVersion, $"Unsupported {ProtocolVersionHeader} '{version}'.");
        }

        message.Context ??= new JsonRpcMessageContext();
        message.Context.User = http.User;
        if (version.Length > 0)
        {
            message.Context.ProtocolVersion = version;
        }

        var sessionId = http.Request.Headers[SessionIdHeader].ToString();
        var request = message as JsonRpcRequest;
        if (sessionId.Length > 0)
        {
            if (!sessions.TryGet(sessionId, out var session) || session.UserId != UserId(http))
            {
                // Another user's session id is as unknown to this caller as an expired one.
                return JsonRpcError(StatusCodes.Status404NotFound, McpErrorCode.InvalidRequest, "Session not found.");
            }

            using (session.Use())
            {
                await WriteAsync(session.Transport, message, http);
            }

            return Results.Empty;
        }

        if (request?.Method == RequestMethods.Initialize && version != StatelessVersion)
        {
            var transport = new StreamableHttpServerTransport(loggerFactory) { SessionId = Guid.NewGuid().ToString("N") };
            var session = new McpSession(transport.SessionId!, UserId(http), http.User.IsInRole(AgentVerseRoles.Admin), transport, servers.Create(transport), TimeProvider.System);
            if (!sessions.TryAdd(session))
            {
                await session.DisposeAsync();
                return JsonRpcError(StatusCodes.Status429TooManyRequests, McpErrorCode.InternalError, "Too many open MCP sessions: end one (DELETE) or let it expire.");
            }

            session.Run = session.Server.RunAsync(CancellationToken.None);
            http.Response.Headers[SessionIdHeader] = session.Id;
            using (session.Use())
            {
                await WriteAsync(transport, message, http);
            }

            return Results.Empty;
        }

        if (version != StatelessVersion)
        {
            return JsonRpcError(StatusCodes.Status400BadRequest, McpErrorCode.InvalidRequest,
                $"Missing {SessionIdHeader}: initialize first, or use protocol {StatelessVersion}.");
        }

        if (HeaderMismatch(http, request) is { } mismatch)
        {
            return mismatch;
        }

        if (request is not null && StatefulOnlyMethods.Contains(request.Method))
        {
            return JsonRpcError(StatusCodes.Status404NotFound, McpErrorCode.MethodNotFound, $"'{request.Method}' does not exist in protocol {StatelessVersion}.", request.Id);
        }

        await using var stateless = new StreamableHttpServerTransport(loggerFactory) { Stateless = true };
        await using var server = servers.Create(stateless);
        _ = server.RunAsync(http.RequestAborted);
        await WriteAsync(stateless, message, http);
        return Results.Empty;
    }

    private static async Task<IResult> GetAsync(HttpContext http, McpSessions sessions)
    {
        var sessionId = http.Request.Headers[SessionIdHeader].ToString();
        if (sessionId.Length == 0)
        {
            // Stateless (2026-07-28) has no server-to-client stream.
            return Results.StatusCode(StatusCodes.Status405MethodNotAllowed);
        }

        if (!sessions.TryGet(sessionId, out var session) || session.UserId != UserId(http))
        {
            return JsonRpcError(StatusCodes.Status404NotFound, McpErrorCode.InvalidRequest, "Session not found.");
        }

        if (!http.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return JsonRpcError(StatusCodes.Status406NotAcceptable, McpErrorCode.InvalidRequest, "Accept must list text/event-stream.");
        }

        if (!session.TryClaimStream())
        {
            return JsonRpcError(StatusCodes.Status409Conflict, McpErrorCode.InvalidRequest, "This session's GET stream was already opened; start a new session.");
        }

        using (session.Use())
        {
            StartEventStream(http);
            await http.Response.Body.FlushAsync(http.RequestAborted);
            try
            {
                await session.StreamAsync(http.Response.Body, http.RequestAborted);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
            }
        }

        return Results.Empty;
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, McpSessions sessions)
    {
        var sessionId = http.Request.Headers[SessionIdHeader].ToString();
        if (sessionId.Length == 0)
        {
            return Results.StatusCode(StatusCodes.Status405MethodNotAllowed);
        }

        return sessions.TryGet(sessionId, out var session) && session.UserId == UserId(http) && await sessions.EndAsync(sessionId)
            ? Results.NoContent()
            : JsonRpcError(StatusCodes.Status404NotFound, McpErrorCode.InvalidRequest, "Session not found.");
    }

    private static async Task WriteAsync(StreamableHttpServerTransport transport, JsonRpcMessage message, HttpContext http)
    {
        StartEventStream(http);
        if (!await transport.HandlePostRequestAsync(message, http.Response.Body, http.RequestAborted))
        {
            // A notification or response: accepted, no body.
            http.Response.Headers.ContentType = default;
            http.Response.Headers.CacheControl = default;
            http.Response.StatusCode = StatusCodes.Status202Accepted;
        }
    }

    private static void StartEventStream(HttpContext http)
    {
        http.Response.Headers.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache,no-store";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <summary>2026-07-28: <c>Mcp-Method</c> (and <c>Mcp-Name</c> for named calls) must match the body, else -32020.</summary>
    private static IResult? HeaderMismatch(HttpContext http, JsonRpcRequest? request)
    {
        if (request is null)
        {
            return null;
        }

        var method = http.Request.Headers[MethodHeader].ToString();
        if (method != request.Method)
        {
            return JsonRpcError(StatusCodes.Status400BadRequest, McpErrorCode.HeaderMismatch, $"{MethodHeader} '{method}' does not match the body's method.", request.Id);
        }

        if (request.Method is RequestMethods.ToolsCall or RequestMethods.ResourcesRead or RequestMethods.PromptsGet)
        {
            var key = request.Method == RequestMethods.ResourcesRead ? "uri" : "name";
            var named = (request.Params as JsonObject)?[key]?.ToString();
            if (http.Request.Headers[NameHeader].ToString() != named)
            {
                return JsonRpcError(StatusCodes.Status400BadRequest, McpErrorCode.HeaderMismatch, $"{NameHeader} does not match the body's {key}.", request.Id);
            }
        }

        var metaVersion = ((request.Params as JsonObject)?["_meta"] as JsonObject)?["io.modelcontextprotocol/protocolVersion"]?.ToString();
        if (metaVersion is not null && metaVersion != StatelessVersion)
        {
            return JsonRpcError(StatusCodes.Status400BadRequest, McpErrorCode.HeaderMismatch, $"{ProtocolVersionHeader} does not match _meta.", request.Id);
        }

        return null;
    }

    /// <summary>DNS rebinding and cross-site protection: a foreign <c>Origin</c> or <c>Host</c> gets 403.</summary>
    private static IResult? RejectedOrigin(HttpContext http)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<McpEndpointOptions>>().Value;
        var host = http.Request.Host.Host;
        var hostAllowed = IsLoopback(host) || options.AllowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase);
        var origin = http.Request.Headers.Origin.ToString();
        var originAllowed = origin.Length == 0
            || options.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase)
            || (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && IsLoopback(uri.Host) && IsLoopback(host));
        return hostAllowed && originAllowed
            ? null
            : JsonRpcError(StatusCodes.Status403Forbidden, McpErrorCode.InvalidRequest, "Origin or Host not allowed.");
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static string UserId(HttpContext http) => http.User.FindFirst(AgentVerseClaims.Subject)?.Value ?? "";

    private static IResult JsonRpcError(int status, McpErrorCode code, string message, RequestId id = default) =>
        Results.Json(new JsonRpcError { Id = id, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message } },
            McpJsonUtilities.DefaultOptions, statusCode: status);
}

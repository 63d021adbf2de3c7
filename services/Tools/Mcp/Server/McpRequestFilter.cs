using System.Net;
using System.Text;
using System.Text.Json;
using AgentVerse.Tools.Apis;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>
/// What <c>/mcp</c> adds around the SDK's Streamable HTTP handler, each where the SDK does otherwise or nothing:
/// <list type="bullet">
/// <item>a foreign <c>Origin</c> or <c>Host</c> gets 403 (the SDK checks neither);</item>
/// <item>another user's session id gets 404 like an unknown one (the SDK answers 403, which tells a caller that the
/// id exists);</item>
/// <item>a user past <see cref="McpEndpointOptions.MaxSessionsPerUser"/> gets 429 (the SDK has no per-user cap);</item>
/// <item>a second GET stream gets 409 (the SDK: 400), and a <c>tools/list_changed</c> kept while no stream was open
/// is sent once one opens (the SDK drops it);</item>
/// <item>DELETE answers 204 (the SDK: an empty 200) and, without a session id, 400 (the SDK: 200);</item>
/// <item>bad input is a 4xx, never a 500: a non-ASCII MCP header, a body in an unknown charset, initialize params of
/// the wrong shape.</item>
/// </list>
/// </summary>
internal sealed class McpRequestFilter(McpSessions sessions, IOptions<McpEndpointOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if ((RejectedOrigin(http, options.Value) ?? NonAsciiHeader(http.Request) ?? UnreadableBody(http.Request)) is { } refused)
        {
            return refused;
        }

        try
        {
            return await ServeAsync(context, next);
        }
        catch (JsonException) when (!http.Response.HasStarted)
        {
            // The SDK answers a body that is no JSON-RPC message itself, but initialize params of the wrong shape
            // escape it as an exception (a 500), after it opened the session: that session is ended here.
            if (http.Response.Headers[McpServerApi.SessionIdHeader] is [{ } opened])
            {
                sessions.End(opened);
            }

            http.Response.Clear();
            return JsonRpcError(StatusCodes.Status400BadRequest, "The message's params do not fit its method.", McpErrorCode.InvalidParams);
        }
    }

    private async ValueTask<object?> ServeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var sessionId = http.Request.Headers[McpServerApi.SessionIdHeader].ToString();
        var userId = http.User.Caller().UserId;
        if (McpServerApi.IsStateless(http.Request))
        {
            // The SDK ignores a session id on a stateless request, and answers GET and DELETE with 405.
            return await next(context);
        }

        if (sessionId.Length == 0)
        {
            if (HttpMethods.IsDelete(http.Request.Method))
            {
                return JsonRpcError(StatusCodes.Status400BadRequest, $"DELETE needs an {McpServerApi.SessionIdHeader} header.");
            }

            // A POST without a session opens one (initialize) or is refused by the SDK.
            return HttpMethods.IsPost(http.Request.Method) && sessions.CountOf(userId) >= options.Value.MaxSessionsPerUser
                ? JsonRpcError(StatusCodes.Status429TooManyRequests, "Too many open MCP sessions: end one (DELETE) or let it expire.")
                : await next(context);
        }

        if (!sessions.TryGet(sessionId, out var session) || session.UserId != userId)
        {
            // Another user's session is as unknown to this caller as an expired one; the SDK's own user check (403)
            // stays behind this one.
            return JsonRpcError(StatusCodes.Status404NotFound, "Session not found.");
        }

        if (HttpMethods.IsGet(http.Request.Method))
        {
            return await StreamAsync(session, context, next);
        }

        var result = await next(context);
        return HttpMethods.IsDelete(http.Request.Method) && !http.Response.HasStarted ? Results.NoContent() : result;
    }

    private async ValueTask<object?> StreamAsync(McpSession session, EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (!session.TryClaimStream())
        {
            return JsonRpcError(StatusCodes.Status409Conflict, "This session's GET stream was already opened; start a new session.");
        }

        var response = context.HttpContext.Response;
        response.OnStarting(() =>
        {
            // The SDK flushes the event stream's headers once it has taken the stream, holding the lock its sends
            // wait for: a send started here goes out on the stream right after.
            if (response.ContentType == "text/event-stream")
            {
                _ = sessions.AnnounceKeptChangeAsync(session);
            }

            return Task.CompletedTask;
        });
        try
        {
            return await next(context);
        }
        finally
        {
            session.ReleaseUnopenedStream();
        }
    }

    /// <summary>
    /// MCP's headers (<c>MCP-Protocol-Version</c>, <c>Mcp-Session-Id</c>, <c>Mcp-Method</c> …) are ASCII: other bytes
    /// get 400. Kestrel reads them as Latin-1 (<see cref="McpExtensions"/>) so that any byte gets here, instead of
    /// Kestrel's bare 400 for invalid UTF-8 or, for a session id, a 404.
    /// </summary>
    private static IResult? NonAsciiHeader(HttpRequest request)
    {
        foreach (var (name, values) in request.Headers)
        {
            if (name.StartsWith("Mcp-", StringComparison.OrdinalIgnoreCase) && values.Any(value => !Ascii.IsValid(value)))
            {
                return JsonRpcError(StatusCodes.Status400BadRequest, $"The {name} header must be ASCII.");
            }
        }

        return null;
    }

    /// <summary>
    /// A POST body must be JSON in a known charset, else 415. Routing answers 415 for another Content-Type, but one
    /// missing or with an unknown charset reaches the SDK, whose JSON reader then throws (a 500).
    /// </summary>
    private static IResult? UnreadableBody(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return null;
        }

        if (!request.HasJsonContentType())
        {
            return JsonRpcError(StatusCodes.Status415UnsupportedMediaType, "The body must be application/json.");
        }

        return MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) && mediaType.Charset.HasValue && mediaType.Encoding is null
            ? JsonRpcError(StatusCodes.Status415UnsupportedMediaType, $"Unknown charset '{mediaType.Charset}'.")
            : null;
    }

    /// <summary>DNS rebinding and cross-site protection: a foreign <c>Origin</c> or <c>Host</c> gets 403.</summary>
    private static IResult? RejectedOrigin(HttpContext http, McpEndpointOptions options)
    {
        var host = http.Request.Host.Host;
        var hostAllowed = IsLoopback(host) || options.AllowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase);
        var origin = http.Request.Headers.Origin.ToString();
        var originAllowed = origin.Length == 0
            || options.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase)
            || (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && IsLoopback(uri.Host) && IsLoopback(host));
        return hostAllowed && originAllowed ? null : JsonRpcError(StatusCodes.Status403Forbidden, "Origin or Host not allowed.");
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static IResult JsonRpcError(int status, string message, McpErrorCode code = McpErrorCode.InvalidRequest) =>
        Results.Json(new JsonRpcError { Error = new JsonRpcErrorDetail { Code = (int)code, Message = message } },
            McpJsonUtilities.DefaultOptions, statusCode: status);
}

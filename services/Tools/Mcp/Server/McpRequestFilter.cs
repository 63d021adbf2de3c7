using System.Net;
using AgentVerse.Tools.Apis;
using Microsoft.Extensions.Options;
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
/// <item>DELETE answers 204 (the SDK: an empty 200) and, without a session id, 400 (the SDK: 200).</item>
/// </list>
/// </summary>
internal sealed class McpRequestFilter(McpSessions sessions, IOptions<McpEndpointOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (RejectedOrigin(http, options.Value) is { } rejected)
        {
            return rejected;
        }

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

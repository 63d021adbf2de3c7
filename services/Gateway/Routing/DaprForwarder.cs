using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Security.Claims;
using AgentVerse.Gateway.Protection;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.ServiceDefaults.Dapr;
using Microsoft.AspNetCore.Http.Features;

namespace AgentVerse.Gateway.Routing;

/// <summary>
/// Forwards a request to an app through Dapr service invocation, streaming both bodies (SSE flows event by event).
/// Forwards the bearer token (the target validates it itself), <c>X-Request-ID</c>, the trace context and the
/// informational <c>X-User-ID</c>/<c>X-User-Role</c>, which it sets from the validated token, never from the client.
/// A target that cannot be reached answers 502, one that does not answer in time 504, both problem+json.
/// </summary>
public sealed class DaprForwarder(IHttpClientFactory http, ILogger<DaprForwarder> logger)
{
    public const string UserIdHeader = "X-User-ID";
    public const string UserRoleHeader = "X-User-Role";
    public const string TraceIdHeader = "X-Trace-ID";

    // Hop-by-hop (RFC 9110 §7.6.1), the ones HttpClient sets itself, and the ones a client must not choose.
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "traceparent", "tracestate", UserIdHeader, UserRoleHeader, TraceIdHeader,
        "dapr-app-id", "dapr-api-token", "dapr-caller-app-id", "dapr-callee-app-id",
    };

    private static readonly HashSet<string> NotReturned = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        RequestIdMiddleware.HeaderName,
    };

    public async Task ForwardAsync(HttpContext context, string appId, TimeSpan timeout)
    {
        var incoming = context.Request;
        // The normalized path (Kestrel has resolved dot segments), so a route can only reach the path it matched.
        var method = incoming.Path.ToUriComponent().TrimStart('/') + incoming.QueryString.ToUriComponent();
        using var request = new HttpRequestMessage(new HttpMethod(incoming.Method), DaprInvocation.AppUri(appId, method));
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            request.Content = new StreamContent(incoming.Body);
        }

        CopyRequestHeaders(context, request);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            using var client = http.CreateClient(DaprInvocation.HttpClientName);
            // The deadline bounds the wait for the response headers, the body then streams for as long as it lasts.
            client.Timeout = Timeout.InfiniteTimeSpan;
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            logger.LogWarning("{AppId} did not answer {Method} {Path} within {Timeout}", appId, incoming.Method, incoming.Path, timeout);
            await WriteProblemAsync(context, StatusCodes.Status504GatewayTimeout, "Upstream timeout", $"The '{appId}' service did not answer in time.");
            return;
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning(ex, "Cannot reach the sidecar to invoke {AppId}", appId);
            await WriteProblemAsync(context, StatusCodes.Status502BadGateway, "Upstream unavailable", $"The '{appId}' service cannot be reached.");
            return;
        }

        using (response)
        {
            // The timeout covers waiting for the response headers; a stream then lasts as long as the client stays.
            deadline.CancelAfter(Timeout.InfiniteTimeSpan);
            if (await IsInvocationFailureAsync(response, context.RequestAborted) is { } failure)
            {
                logger.LogWarning("Invocation of {AppId} failed: {Failure}", appId, failure);
                await WriteProblemAsync(context, StatusCodes.Status502BadGateway, "Upstream unavailable", $"The '{appId}' service cannot be reached.");
                return;
            }

            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!NotReturned.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException && context.RequestAborted.IsCancellationRequested)
            {
                // The client went away mid-stream; nothing left to answer.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static void CopyRequestHeaders(HttpContext context, HttpRequestMessage request)
    {
        foreach (var (name, values) in context.Request.Headers)
        {
            if (NotForwarded.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && request.Content is not null)
            {
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        // HttpClient writes traceparent from the gateway's own activity (a child in the same trace); without one,
        // pass the client's through unchanged.
        if (Activity.Current is null)
        {
            foreach (var name in new[] { "traceparent", "tracestate" })
            {
                if (context.Request.Headers.TryGetValue(name, out var value))
                {
                    request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
                }
            }
        }

        request.Headers.Remove(RequestIdMiddleware.HeaderName);
        request.Headers.TryAddWithoutValidation(RequestIdMiddleware.HeaderName, RequestIdMiddleware.Get(context));
        // The seed's ProxyHeaders: the W3C trace id, for services and logs that look for X-Trace-ID.
        if (Activity.Current?.TraceId.ToHexString() is { } traceId && traceId != default(ActivityTraceId).ToHexString())
        {
            request.Headers.TryAddWithoutValidation(TraceIdHeader, traceId);
        }

        if (context.User.Identity?.IsAuthenticated == true)
        {
            request.Headers.TryAddWithoutValidation(UserIdHeader, context.User.FindFirstValue(AgentVerseClaims.Subject));
            request.Headers.TryAddWithoutValidation(UserRoleHeader, context.User.FindFirstValue(AgentVerseClaims.Role));
        }
    }

    /// <summary>
    /// The sidecar's own failure (target unknown or unreachable) is a 500 with Dapr's <c>ERR_DIRECT_INVOKE</c> error;
    /// a 500 from the app itself is passed through unchanged.
    /// </summary>
    private static async Task<string?> IsInvocationFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode != HttpStatusCode.InternalServerError
            || response.Content.Headers.ContentType?.MediaType != "application/json"
            || response.Content.Headers.ContentLength > 8192)
        {
            return null;
        }

        try
        {
            // daprd writes its errors without a Content-Length; a large JSON 500 is the app's own, passed on whole.
            await response.Content.LoadIntoBufferAsync(64 * 1024, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return body.Contains("\"ERR_DIRECT_INVOKE\"", StringComparison.Ordinal) ? body : null;
    }

    private static Task WriteProblemAsync(HttpContext context, int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
}

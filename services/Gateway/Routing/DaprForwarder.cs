using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using AgentVerse.Gateway.Protection;
using AgentVerse.ServiceDefaults.Authentication;
using Dapr;
using Dapr.Client;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace AgentVerse.Gateway.Routing;

/// <summary>
/// Forwards a request to an app through Dapr service invocation with YARP's <see cref="IHttpForwarder"/>, streaming
/// both bodies (SSE flows event by event). Forwards the bearer token (the target validates it itself),
/// <c>X-Request-ID</c>, the trace context and the informational <c>X-User-ID</c>/<c>X-User-Role</c>, which it sets
/// from the validated token, never from the client. A target that cannot be reached answers 502, one that does not
/// answer in time 504; a request body the client breaks (over the limit, malformed chunks) its 4xx; all problem+json.
/// </summary>
public sealed class DaprForwarder(IHttpForwarder forwarder, IConfiguration configuration, ILogger<DaprForwarder> logger) : IDisposable
{
    public const string UserIdHeader = "X-User-ID";
    public const string UserRoleHeader = "X-User-Role";
    public const string TraceIdHeader = "X-Trace-ID";

    // The route timeout bounds the wait for the response headers (see Transformer), not a stream's idle time.
    private static readonly ForwarderRequestConfig RequestConfig = new() { ActivityTimeout = Timeout.InfiniteTimeSpan };

    // YARP's handler settings for a proxy (no redirects, cookies, decompression or proxy; its trace propagator), with
    // the Dapr SDK's handler in front: http://{app-id}/{path} goes to the sidecar's /v1.0/invoke/{app-id}/method/{path}
    // with dapr-api-token when one is set.
    private readonly HttpMessageInvoker invoker = new InvocationClientFactory(DaprDefaults.GetDefaultHttpEndpoint(configuration))
        .CreateClient(new ForwarderHttpClientContext { NewConfig = HttpClientConfig.Empty });

    public async Task ForwardAsync(HttpContext context, string appId, TimeSpan timeout)
    {
        using var headersDeadline = new CancellationTokenSource(timeout);
        var error = await forwarder.SendAsync(context, $"http://{appId}/", invoker, RequestConfig, new Transformer(appId, headersDeadline, logger), headersDeadline.Token);
        if (error == ForwarderError.None || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (error == ForwarderError.RequestBodyClient)
        {
            // YARP has set the client's status: 413 for a body over the limit, 400 for malformed framing.
            var status = context.Response.StatusCode;
            await WriteProblemAsync(context, status, status == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Bad request",
                status == StatusCodes.Status413PayloadTooLarge ? "The request body is over the limit." : "The request body could not be read.");
        }
        else if (headersDeadline.IsCancellationRequested)
        {
            logger.LogWarning("{AppId} did not answer {Method} {Path} within {Timeout}", appId, context.Request.Method, context.Request.Path, timeout);
            await WriteProblemAsync(context, StatusCodes.Status504GatewayTimeout, "Upstream timeout", $"The '{appId}' service did not answer in time.");
        }
        else
        {
            logger.LogWarning(exception, "Invocation of {AppId} failed: {Error}", appId, error);
            await WriteProblemAsync(context, StatusCodes.Status502BadGateway, "Upstream unavailable", $"The '{appId}' service cannot be reached.");
        }
    }

    public void Dispose() => invoker.Dispose();

    private static Task WriteProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.Clear();
        return TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }

    private sealed class InvocationClientFactory(string daprEndpoint) : ForwarderHttpClientFactory
    {
        protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
            new InvocationHandler { DaprEndpoint = daprEndpoint, InnerHandler = handler };
    }

    /// <summary>The request and response headers of one forwarded request.</summary>
    private sealed class Transformer(string appId, CancellationTokenSource headersDeadline, ILogger logger) : HttpTransformer
    {
        // Besides what YARP leaves out (hop-by-hop, Host): what only the gateway or the sidecar may set.
        private static readonly string[] NotForwarded =
        [
            UserIdHeader, UserRoleHeader, TraceIdHeader, RequestIdMiddleware.HeaderName,
            "dapr-app-id", "dapr-api-token", "dapr-caller-app-id", "dapr-callee-app-id",
        ];

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            // The invocation handler addresses the sidecar; the app sees the sidecar's Host, not the gateway's.
            proxyRequest.Headers.Host = null;
            var headers = proxyRequest.Headers;
            foreach (var name in NotForwarded)
            {
                headers.Remove(name);
            }

            headers.TryAddWithoutValidation(RequestIdMiddleware.HeaderName, RequestIdMiddleware.Get(httpContext));
            // The seed's ProxyHeaders: the W3C trace id, for services and logs that look for X-Trace-ID.
            if (Activity.Current?.TraceId is { } traceId && traceId != default)
            {
                headers.TryAddWithoutValidation(TraceIdHeader, traceId.ToHexString());
            }

            if (httpContext.User.Identity?.IsAuthenticated == true)
            {
                headers.TryAddWithoutValidation(UserIdHeader, httpContext.User.FindFirstValue(AgentVerseClaims.Subject));
                headers.TryAddWithoutValidation(UserRoleHeader, httpContext.User.FindFirstValue(AgentVerseClaims.Role));
            }
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            // The headers are in: a stream may now last as long as the client stays.
            headersDeadline.CancelAfter(Timeout.InfiniteTimeSpan);
            if (proxyResponse is null)
            {
                return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            }

            if (await InvocationFailureAsync(proxyResponse, cancellationToken) is { } failure)
            {
                // The sidecar could not reach the app: nothing of its answer is copied.
                logger.LogWarning("Invocation of {AppId} failed: {Failure}", appId, failure);
                await WriteProblemAsync(httpContext, StatusCodes.Status502BadGateway, "Upstream unavailable", $"The '{appId}' service cannot be reached.");
                return false;
            }

            // The gateway's own request id stays on the response.
            proxyResponse.Headers.Remove(RequestIdMiddleware.HeaderName);
            return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        }

        /// <summary>
        /// The sidecar's own failure (target unknown or unreachable) is a 500 with Dapr's <c>ERR_DIRECT_INVOKE</c> error;
        /// a 500 from the app itself is passed through unchanged.
        /// </summary>
        private static async Task<string?> InvocationFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
        {
            if (response.StatusCode != HttpStatusCode.InternalServerError
                || response.Content.Headers.ContentType is not MediaTypeHeaderValue { MediaType: "application/json" }
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
    }
}

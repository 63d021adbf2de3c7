using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace AgentVerse.ServiceDefaults;

/// <summary>
/// Refuses a request whose declared Content-Length exceeds the body size limit with 413, before anything
/// reads the body. Kestrel enforces the same limit only once a handler reads the body (and for chunked
/// bodies that is still the backstop); refusing up front answers at once, and the status code pages turn
/// the bare 413 into problem+json. It runs after routing, so an endpoint's own size limit applies.
/// </summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next, ILogger<RequestBodyLimitMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (context.Request.ContentLength is { } length && length > limit)
        {
            logger.LogInformation(
                "Refused {Method} {Path}: body of {ContentLength} bytes exceeds the limit of {MaxRequestBodySize} bytes",
                context.Request.Method, context.Request.Path, length, limit);
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return Task.CompletedTask;
        }

        return next(context);
    }
}

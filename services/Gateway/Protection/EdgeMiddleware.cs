using System.Text;
using System.Text.RegularExpressions;

namespace AgentVerse.Gateway.Protection;

/// <summary>
/// Gives every request an <c>X-Request-ID</c>: the client's when it is a sane token, else a new one; echoes it in
/// the response and forwards it to the services.
/// </summary>
public sealed partial class RequestIdMiddleware(RequestDelegate next)
{
    public const string HeaderName = "X-Request-ID";
    private const string ItemKey = "AgentVerse.RequestId";

    public Task InvokeAsync(HttpContext context)
    {
        var supplied = context.Request.Headers[HeaderName].ToString();
        var requestId = supplied.Length is > 0 and <= 128 && SafeId().IsMatch(supplied) ? supplied : Guid.NewGuid().ToString("N");
        context.Items[ItemKey] = requestId;
        context.Response.Headers[HeaderName] = requestId;
        return next(context);
    }

    public static string Get(HttpContext context) => context.Items[ItemKey] as string ?? Guid.NewGuid().ToString("N");

    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    private static partial Regex SafeId();
}

/// <summary>Security headers on every response, set when it starts so error responses carry them too.</summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpContext)state).Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            if (!headers.ContainsKey("Content-Security-Policy"))
            {
                headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
            }

            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}

/// <summary>
/// Header values are ASCII (RFC 9110 §5.5): Kestrel reads UTF-8 ones, which no service could be sent (HttpClient
/// refuses them), so the gateway answers 400 naming the header here instead of a 502 when forwarding.
/// </summary>
public sealed class AsciiHeadersMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        foreach (var (name, values) in context.Request.Headers)
        {
            foreach (var value in values)
            {
                if (value is not null && !Ascii.IsValid(value))
                {
                    return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request",
                        detail: $"The value of the '{name}' header is not ASCII.").ExecuteAsync(context);
                }
            }
        }

        return next(context);
    }
}

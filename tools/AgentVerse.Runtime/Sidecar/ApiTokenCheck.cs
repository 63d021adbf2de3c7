using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>
/// daprd's <c>DAPR_API_TOKEN</c> check: every call needs a matching <c>dapr-api-token</c> header except the
/// two health probes; a mismatch gets a plain-text 401 (not JSON). The header is never forwarded.
/// </summary>
internal sealed class ApiTokenCheck(string? token)
{
    private readonly byte[]? _expected = token is null ? null : Encoding.UTF8.GetBytes(token);

    public Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        if (_expected is null || IsExempt(context.Request))
        {
            context.Request.Headers.Remove("dapr-api-token");
            return next();
        }
        var given = Encoding.UTF8.GetBytes(context.Request.Headers["dapr-api-token"].ToString());
        if (!CryptographicOperations.FixedTimeEquals(given, _expected))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("invalid api token");
        }
        context.Request.Headers.Remove("dapr-api-token");
        return next();
    }

    private static bool IsExempt(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && (request.Path == "/v1.0/healthz" || request.Path == "/v1.0/healthz/outbound");
}

using System.Net;
using System.Text.Json;

namespace AgentVerse.Dapr;

/// <summary>Base type of the errors this library raises when a Dapr call fails.</summary>
public class DaprException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public DaprException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the failure that caused it (e.g. the sidecar being unreachable).</summary>
    public DaprException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// The sidecar answered a Dapr API call with a non-success status.
/// <see cref="ErrorCode"/> is the <c>errorCode</c> of the JSON error body (e.g. <c>ERR_STATE_STORE_NOT_FOUND</c>).
/// </summary>
public sealed class DaprApiException : DaprException
{
    /// <summary>
    /// Error code given to the plain-text 401 (<c>invalid api token</c>) daprd returns for a missing or wrong
    /// <c>dapr-api-token</c>. Daprd sends no code there; this one is ours, so callers can tell it from
    /// the JSON 401 <c>ERR_SECRET_STORE_NOT_FOUND</c>.
    /// </summary>
    public const string UnauthorizedErrorCode = "ERR_UNAUTHORIZED";

    /// <summary>Creates the exception from the parts of a sidecar reply.</summary>
    public DaprApiException(string message, string? errorCode, HttpStatusCode statusCode, string? responseBody)
        : base(message)
    {
        ErrorCode = errorCode;
        StatusCode = statusCode;
        ResponseBody = responseBody;
    }

    /// <summary>The Dapr error code, e.g. <c>ERR_STATE_SAVE</c>; <see cref="UnauthorizedErrorCode"/> for a rejected API token; null when the body had none.</summary>
    public string? ErrorCode { get; }

    /// <summary>HTTP status of the sidecar's reply.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The reply body as text, as received.</summary>
    public string? ResponseBody { get; }

    internal static async Task<DaprApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        string? errorCode = null;
        string? message = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (json.RootElement.TryGetProperty("errorCode", out var code) && code.ValueKind == JsonValueKind.String)
                {
                    errorCode = code.GetString();
                }

                if (json.RootElement.TryGetProperty("message", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    message = text.GetString();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: daprd's token check answers in plain text.
        }

        if (errorCode is null && response.StatusCode == HttpStatusCode.Unauthorized)
        {
            errorCode = UnauthorizedErrorCode;
        }

        message ??= string.IsNullOrWhiteSpace(body) ? response.ReasonPhrase : body.Trim();
        var request = response.RequestMessage;
        return new DaprApiException(
            $"Dapr API {request?.Method} {request?.RequestUri?.AbsolutePath} failed with {(int)response.StatusCode} {errorCode}: {message}",
            errorCode,
            response.StatusCode,
            body);
    }
}

/// <summary>
/// The app called through service invocation answered with a non-success status
/// (raised by the <c>InvokeMethodAsync</c> overloads; <c>InvokeMethodWithResponseAsync</c> returns the reply instead).
/// </summary>
public sealed class InvocationException : DaprException
{
    /// <summary>Creates the exception for a failed call to <paramref name="methodName"/> on <paramref name="appId"/>.</summary>
    public InvocationException(string appId, string methodName, HttpStatusCode statusCode, string? responseBody, HttpResponseMessage? response = null)
        : base($"Invoking '{methodName}' on app '{appId}' failed with {(int)statusCode} {statusCode}.")
    {
        AppId = appId;
        MethodName = methodName;
        StatusCode = statusCode;
        ResponseBody = responseBody;
        Response = response;
    }

    /// <summary>The target app id.</summary>
    public string AppId { get; }

    /// <summary>The method (path) invoked.</summary>
    public string MethodName { get; }

    /// <summary>The callee's status (or the sidecar's, e.g. 500 <c>ERR_DIRECT_INVOKE</c> when the app is unreachable).</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The reply body as text.</summary>
    public string? ResponseBody { get; }

    /// <summary>The reply, with its body buffered, for its headers.</summary>
    public HttpResponseMessage? Response { get; }
}

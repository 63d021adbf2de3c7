using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapr;
using Grpc.Core;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace AgentVerse.ServiceDefaults.Errors;

/// <summary>
/// Turns the exceptions a request can end in into problem+json without internals: a request the server cannot read
/// (malformed or truncated JSON, a wrong type, a value that does not bind, a body over the limit) is the client's
/// 4xx naming the field; a sidecar or building block that fails is a 503 to retry. Anything else is left to the
/// default handler (a 500 without details).
/// </summary>
internal sealed partial class RequestExceptionHandler(IProblemDetailsService problems, ILogger<RequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        switch (exception)
        {
            case BadHttpRequestException bad:
                problem = new ProblemDetails { Status = bad.StatusCode, Title = TitleFor(bad.StatusCode), Detail = DetailFor(bad) };
                if (Field(bad) is { } field)
                {
                    problem.Extensions["errors"] = new Dictionary<string, string[]> { [field.Name] = [field.Message] };
                }

                break;
            case InvalidOperationException when HasUnknownCharset(httpContext.Request):
                // Minimal APIs cannot decode the body ("…charset 'klingon' is not a known encoding").
                problem = new ProblemDetails
                {
                    Status = StatusCodes.Status415UnsupportedMediaType,
                    Title = TitleFor(StatusCodes.Status415UnsupportedMediaType),
                    Detail = "The request's charset is unknown; send UTF-8 JSON.",
                };
                break;
            case DaprException or RpcException:
                logger.LogError(exception, "A Dapr building block failed for {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
                httpContext.Response.Headers.RetryAfter = "1";
                problem = new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "Service unavailable",
                    Detail = "A platform dependency failed; the request was not completed. Try again.",
                };
                break;
            default:
                return false;
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>
    /// The field a binding failure is about: the JSON path of a body that does not read as the declared JSON, or the
    /// name of a route, query or header parameter that does not bind.
    /// </summary>
    private static (string Name, string Message)? Field(BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            // "The JSON value could not be converted to <a .NET type>. Path: $.page | LineNumber: 0 | …" names the
            // declaring record's type, not the field's: said without .NET names, pointing at the OpenAPI document.
            var message = json.Message;
            if (message.Contains("could not be converted to", StringComparison.Ordinal))
            {
                return (json.Path ?? "$", "The value does not have the type the OpenAPI document declares.");
            }

            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            return (json.Path ?? "$", cut > 0 ? message[..cut] : message);
        }

        return ParameterName().Match(bad.Message) is { Success: true } match ? (match.Groups[1].Value, bad.Message) : null;
    }

    private static bool HasUnknownCharset(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || type.Charset.Value is not { Length: > 0 } charset)
        {
            return false;
        }

        try
        {
            _ = Encoding.GetEncoding(charset.Trim('"'));
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    // Minimal APIs' wording for a missing body speaks to the developer ("Did you mean to use a Service instead?").
    private static string DetailFor(BadHttpRequestException bad) => bad switch
    {
        _ when bad.Message.Contains("no body was provided", StringComparison.Ordinal) => "The request needs a JSON body.",
        { InnerException: JsonException } => "The request body is not the expected JSON; see errors.",
        _ => bad.Message,
    };

    private static string TitleFor(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "Request body too large",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "Request headers too large",
        _ => "Bad request",
    };

    // Minimal APIs name the parameter as "<type> <name>", e.g. Failed to bind parameter "int page" from "abc".
    [GeneratedRegex("""parameter "[^" ]+ ([^" ]+)"?""")]
    private static partial Regex ParameterName();
}

using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>
/// Service invocation (daprd pkg/api/http/directmessaging.go): <c>/v1.0/invoke/{appId}/method/{path}</c>,
/// or any unmatched path with a <c>dapr-app-id</c> header (or Basic auth user <c>dapr-app-id</c>).
/// Verb, raw path, query, headers and bodies pass through, streamed both ways.
/// </summary>
internal static class InvokeApi
{
    private const string InvokePrefix = "/v1.0/invoke/";

    // Hop-by-hop headers (RFC 9110 §7.6.1) and the ones daprd strips before forwarding.
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "dapr-app-id", "dapr-api-token", "traceparent", "tracestate",
    };

    public static void MapInvokeApi(this IEndpointRouteBuilder app, Sidecar sidecar)
    {
        app.Map("/v1.0/invoke/{appId}/method/{**method}", context =>
        {
            var appId = (string)context.Request.RouteValues["appId"]!;
            return ForwardAsync(context, sidecar, appId, RawMethodPath(context, appId));
        });

        // daprd sends every unmatched route to invocation, file-like paths included (MapFallback's default pattern
        // would skip those); without an app id that is a 404.
        app.MapFallback("{**path}", context => FallbackAsync(context, sidecar));
    }

    /// <summary>An unmatched path: invocation of the app named by <c>dapr-app-id</c> (header or Basic user), else 404.</summary>
    internal static Task FallbackAsync(HttpContext context, Sidecar sidecar)
    {
        var appId = AppIdFromHeaders(context.Request);
        if (appId is null)
        {
            return DaprError.DirectInvoke(404, "failed getting app id either from the URL path or the header dapr-app-id").WriteAsync(context.Response);
        }
        return ForwardAsync(context, sidecar, appId, RawTarget(context));
    }

    private static async Task ForwardAsync(HttpContext context, Sidecar caller, string appId, string pathAndQuery)
    {
        var target = FindTarget(caller, appId);
        if (target is null)
        {
            await DaprError.DirectInvoke(500, $"failed to invoke, id: {appId}, err: couldn't find service: {appId}").WriteAsync(context.Response);
            return;
        }
        if (target.App is null)
        {
            await DaprError.DirectInvoke(500, $"failed to invoke, id: {appId}, err: app channel is not initialized").WriteAsync(context.Response);
            return;
        }

        using var outgoing = BuildRequest(context, caller, target, pathAndQuery);
        HttpResponseMessage response;
        try
        {
            response = await target.App.SendAsync(outgoing, context.RequestAborted);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            caller.Logger.LogWarning("Invocation of {TargetAppId} {Path} failed: {Error}", appId, pathAndQuery, e.Message);
            await DaprError.DirectInvoke(500, $"failed to invoke, id: {appId}, err: {e.Message}").WriteAsync(context.Response);
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            CopyResponseHeaders(response, context.Response);
            // Server-sent events and other streams must reach the caller chunk by chunk.
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
    }

    /// <summary>The target app's sidecar; <c>app.namespace</c> ids name the app before the dot.</summary>
    internal static Sidecar? FindTarget(Sidecar caller, string appId) =>
        caller.Runtime.Find(appId) ?? (appId.IndexOf('.', StringComparison.Ordinal) is var dot and > 0 ? caller.Runtime.Find(appId[..dot]) : null);

    private static HttpRequestMessage BuildRequest(HttpContext context, Sidecar caller, Sidecar target, string pathAndQuery)
    {
        var request = context.Request;
        var outgoing = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(target.App!.BaseAddress, pathAndQuery.TrimStart('/')));
        var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
        if (hasBody)
        {
            outgoing.Content = new StreamContent(request.Body);
        }
        foreach (var (name, values) in request.Headers)
        {
            if (NotForwarded.Contains(name))
            {
                continue;
            }
            if (!outgoing.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && outgoing.Content is not null)
            {
                outgoing.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        var trace = TraceContext.FromRequest(request).NewChild();
        outgoing.Headers.TryAddWithoutValidation("traceparent", trace.TraceParent);
        if (trace.TraceState is not null)
        {
            outgoing.Headers.TryAddWithoutValidation("tracestate", trace.TraceState);
        }
        var callerAddress = context.Connection.RemoteIpAddress?.ToString() ?? "127.0.0.1";
        outgoing.Headers.TryAddWithoutValidation("dapr-caller-app-id", caller.AppId);
        outgoing.Headers.TryAddWithoutValidation("dapr-callee-app-id", target.AppId);
        outgoing.Headers.TryAddWithoutValidation("X-Forwarded-For", callerAddress);
        outgoing.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value ?? "");
        outgoing.Headers.TryAddWithoutValidation("Forwarded", $"for={callerAddress};by={callerAddress};host={request.Host.Value}");
        return outgoing;
    }

    private static void CopyResponseHeaders(HttpResponseMessage response, HttpResponse target)
    {
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!NotForwarded.Contains(name))
            {
                target.Headers[name] = values.ToArray();
            }
        }
    }

    /// <summary>The method path exactly as the caller encoded it, plus the query string.</summary>
    private static string RawMethodPath(HttpContext context, string appId)
    {
        var raw = RawTarget(context);
        var marker = $"{InvokePrefix}{appId}/method";
        var start = raw.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0)
        {
            // The app id was percent-encoded in the URL; fall back to the decoded route value.
            return "/" + (context.Request.RouteValues["method"] as string ?? "") + context.Request.QueryString;
        }
        var rest = raw[(start + marker.Length)..];
        return rest.StartsWith('/') ? rest : "/" + rest;
    }

    private static string RawTarget(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : context.Request.Path + context.Request.QueryString;

    private static string? AppIdFromHeaders(HttpRequest request)
    {
        if (request.Headers["dapr-app-id"].ToString() is { Length: > 0 } header)
        {
            return header;
        }
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var auth)
            && string.Equals(auth.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) && auth.Parameter is not null)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth.Parameter));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && decoded[..colon] == "dapr-app-id")
                {
                    return decoded[(colon + 1)..];
                }
            }
            catch (FormatException)
            {
                // Not Basic credentials in base64: not an app id.
            }
        }
        return null;
    }
}

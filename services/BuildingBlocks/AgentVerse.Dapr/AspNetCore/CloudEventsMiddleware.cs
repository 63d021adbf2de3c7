using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace AgentVerse.Dapr;

/// <summary>The CloudEvent a request arrived as, before <see cref="CloudEventsApplicationBuilderExtensions.UseCloudEvents"/> unwrapped it.</summary>
public interface ICloudEventFeature
{
    /// <summary>The whole CloudEvent (id, source, type, topic, pubsubname, traceparent, data …).</summary>
    JsonElement CloudEvent { get; }
}

/// <summary>Options of the CloudEvents middleware.</summary>
public sealed class CloudEventsMiddlewareOptions
{
    /// <summary>
    /// When true, string <c>data</c> with a non-JSON content type reaches the endpoint as a JSON string
    /// (quoted) rather than as the text itself. Same switch as the official SDK's.
    /// </summary>
    public bool SuppressJsonDecodingOfTextPayloads { get; set; }
}

/// <summary>Adds the CloudEvents middleware.</summary>
public static class CloudEventsApplicationBuilderExtensions
{
    /// <summary>
    /// Unwraps structured CloudEvents (<c>application/cloudevents+json</c>) so endpoints bind the event's data:
    /// JSON <c>data</c> becomes the body with the event's <c>datacontenttype</c> (default <c>application/json</c>),
    /// string <c>data</c> with a non-JSON content type becomes the text itself, and <c>data_base64</c> becomes the
    /// decoded bytes. The original event stays available as <see cref="ICloudEventFeature"/>
    /// (<c>httpContext.Features.Get&lt;ICloudEventFeature&gt;()</c>). Other requests pass untouched.
    /// </summary>
    public static IApplicationBuilder UseCloudEvents(this IApplicationBuilder app, CloudEventsMiddlewareOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<CloudEventsMiddleware>(options ?? new CloudEventsMiddlewareOptions());
    }
}

internal sealed class CloudEventsMiddleware(RequestDelegate next, CloudEventsMiddlewareOptions options)
{
    private const string CloudEventContentType = "application/cloudevents+json";

    public async Task InvokeAsync(HttpContext httpContext)
    {
        if (!IsCloudEvent(httpContext.Request.ContentType, out var encoding))
        {
            await next(httpContext);
            return;
        }

        JsonElement cloudEvent;
        try
        {
            if (encoding.CodePage == Encoding.UTF8.CodePage)
            {
                cloudEvent = await JsonSerializer.DeserializeAsync<JsonElement>(httpContext.Request.Body, cancellationToken: httpContext.RequestAborted);
            }
            else
            {
                using var reader = new StreamReader(httpContext.Request.Body, encoding);
                cloudEvent = JsonSerializer.Deserialize<JsonElement>(await reader.ReadToEndAsync(httpContext.RequestAborted));
            }
        }
        catch (JsonException)
        {
            // A broken event cannot be retried into shape; 400 makes Dapr retry, then dead-letter it.
            httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var hasData = cloudEvent.ValueKind == JsonValueKind.Object && cloudEvent.TryGetProperty("data", out _);
        var hasBinaryData = cloudEvent.ValueKind == JsonValueKind.Object && cloudEvent.TryGetProperty("data_base64", out _);
        if (hasData && hasBinaryData)
        {
            // The CloudEvents JSON format forbids both; same answer as the official SDK.
            httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        byte[] body;
        string? contentType;
        if (hasData)
        {
            var data = cloudEvent.GetProperty("data");
            contentType = GetDataContentType(cloudEvent, reencodedAsUtf8: true, out var isJson);
            // CloudEvents carries non-JSON text as a JSON string; anything else is JSON whatever the declared type.
            isJson |= data.ValueKind != JsonValueKind.String;
            body = isJson || options.SuppressJsonDecodingOfTextPayloads
                ? JsonSerializer.SerializeToUtf8Bytes(data)
                : Encoding.UTF8.GetBytes(data.GetString() ?? "");
        }
        else if (hasBinaryData)
        {
            var data = cloudEvent.GetProperty("data_base64");
            try
            {
                body = data.GetBytesFromBase64();
            }
            catch (FormatException)
            {
                httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            contentType = GetDataContentType(cloudEvent, reencodedAsUtf8: false, out _);
        }
        else
        {
            body = [];
            contentType = null;
        }

        var originalBody = httpContext.Request.Body;
        var originalContentType = httpContext.Request.ContentType;
        var originalLength = httpContext.Request.ContentLength;
        httpContext.Features.Set<ICloudEventFeature>(new CloudEventFeature(cloudEvent));
        try
        {
            httpContext.Request.Body = new MemoryStream(body, writable: false);
            httpContext.Request.ContentType = contentType;
            httpContext.Request.ContentLength = body.Length;
            await next(httpContext);
        }
        finally
        {
            httpContext.Request.Body = originalBody;
            httpContext.Request.ContentType = originalContentType;
            httpContext.Request.ContentLength = originalLength;
        }
    }

    private static bool IsCloudEvent(string? contentType, out Encoding encoding)
    {
        encoding = Encoding.UTF8;
        if (contentType is null
            || !contentType.StartsWith(CloudEventContentType, StringComparison.OrdinalIgnoreCase)
            || !MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            || !parsed.MediaType.Equals(CloudEventContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            encoding = parsed.Encoding ?? Encoding.UTF8;
        }
        catch (ArgumentException)
        {
            // An unknown charset: JSON is UTF-8 by definition, so read it as such rather than fail.
            encoding = Encoding.UTF8;
        }

        return true;
    }

    private static string GetDataContentType(JsonElement cloudEvent, bool reencodedAsUtf8, out bool isJson)
    {
        if (cloudEvent.TryGetProperty("datacontenttype", out var value)
            && value.ValueKind == JsonValueKind.String
            && MediaTypeHeaderValue.TryParse(value.GetString(), out var parsed))
        {
            isJson = parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || parsed.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);
            // Data from the "data" member is written out as UTF-8, so a declared charset would now be wrong.
            if (reencodedAsUtf8 && parsed.Charset.HasValue)
            {
                parsed.Charset = default;
                return parsed.ToString();
            }

            return value.GetString()!;
        }

        // No (valid) datacontenttype: CloudEvents' JSON format says data is JSON.
        isJson = true;
        return "application/json";
    }

    private sealed record CloudEventFeature(JsonElement CloudEvent) : ICloudEventFeature;
}

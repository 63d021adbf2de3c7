using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Tools.Execution;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.BuiltIns;

/// <summary>GET or POST a URL through <see cref="SafeHttpClient"/>: allow-listed headers, size and time limits, SSRF refusals.</summary>
public sealed class HttpRequestTool(SafeHttpClient http, IOptions<ToolsOptions> options) : IBuiltInTool
{
    public string Name => "http_request";

    public string Description => "Sends an HTTP GET or POST to a public URL and returns status, content type and body (size and time limited; internal addresses are refused).";

    public JsonElement InputSchema { get; } = Schemas.Parse("""
        {"type":"object","required":["url"],"additionalProperties":false,
         "properties":{
           "url":{"type":"string","minLength":8,"maxLength":2048,"pattern":"^[hH][tT][tT][pP][sS]?://","description":"The http(s) URL","example":"https://example.com/"},
           "method":{"type":"string","enum":["GET","POST"],"description":"HTTP method (default GET)","example":"GET"},
           "headers":{"type":"object","additionalProperties":{"type":"string","maxLength":1024},"description":"Request headers (allow-listed names only)","example":{"Accept":"application/json"}},
           "body":{"type":"string","maxLength":1048576,"description":"For POST: the request body","example":"{\"q\":1}"}}}
        """);

    public JsonElement OutputSchema { get; } = Schemas.Parse("""
        {"type":"object","description":"Status, content type and body (parsed when JSON)","example":{"status":200,"contentType":"application/json","body":{"ok":true}}}
        """);

    public IReadOnlyList<string> Capabilities { get; } = ["network"];

    public async ValueTask<JsonNode?> ExecuteAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(parameters.RequiredString("url"), UriKind.Absolute, out var uri))
        {
            throw new ToolExecutionException("'url' is not an absolute URL.");
        }

        var method = parameters.OptionalString("method") == "POST" ? HttpMethod.Post : HttpMethod.Get;
        var allowed = options.Value.Http.AllowedRequestHeaders;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? contentType = null;
        if (parameters.TryGetProperty("headers", out var requested))
        {
            foreach (var header in requested.EnumerateObject())
            {
                if (!allowed.Contains(header.Name, StringComparer.OrdinalIgnoreCase))
                {
                    throw new ToolExecutionException($"Header '{header.Name}' is not allowed; allowed: {string.Join(", ", allowed)}.");
                }

                if (header.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    contentType = header.Value.GetString();
                }
                else
                {
                    headers[header.Name] = header.Value.GetString()!;
                }
            }
        }

        HttpContent? content = null;
        if (method == HttpMethod.Post)
        {
            content = new StringContent(parameters.OptionalString("body") ?? "", Encoding.UTF8);
            content.Headers.Remove("Content-Type");
            content.Headers.TryAddWithoutValidation("Content-Type", contentType ?? "text/plain; charset=utf-8");
        }

        using (content)
        {
            var response = await OutboundCall.SendAsync(http, new OutboundRequest(method, uri, headers, content), cancellationToken);
            return new JsonObject
            {
                ["status"] = response.StatusCode,
                ["contentType"] = response.ContentType,
                ["url"] = response.FinalUri.ToString(),
                ["body"] = OutboundCall.Body(response),
            };
        }
    }
}

/// <summary>Maps outbound failures to tool errors and bodies to JSON.</summary>
public static class OutboundCall
{
    public static async Task<OutboundResponse> SendAsync(SafeHttpClient http, OutboundRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is DestinationRefusedException or ResponseTooLargeException)
        {
            throw new ToolExecutionException(ex.Message);
        }
        catch (HttpRequestException ex)
        {
            throw new ToolExecutionException($"The request failed: {ex.HttpRequestError}.");
        }
    }

    /// <summary>The body as JSON when it is JSON, else as text.</summary>
    public static JsonNode? Body(OutboundResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                return JsonNode.Parse(response.Body);
            }
            catch (JsonException)
            {
                // Not JSON after all: returned as text.
            }
        }

        return JsonValue.Create(Encoding.UTF8.GetString(response.Body));
    }
}

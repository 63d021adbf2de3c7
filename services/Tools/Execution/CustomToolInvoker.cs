using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Tools.BuiltIns;
using AgentVerse.Tools.Registry;

namespace AgentVerse.Tools.Execution;

/// <summary>
/// Runs a custom HTTP tool: GET sends the arguments as query parameters, POST/PUT as a JSON body, with the
/// decrypted API key in the tool's header (only to the tool's own origin, never after a cross-origin redirect),
/// through <see cref="SafeHttpClient"/>.
/// </summary>
public sealed class CustomToolInvoker(SafeHttpClient http, ApiKeyProtector protector)
{
    public async Task<JsonNode?> InvokeAsync(ToolDefinition tool, JsonElement parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tool);
        var method = new HttpMethod(tool.Method);
        var uri = new Uri(tool.Endpoint);
        HttpContent? content = null;
        if (method == HttpMethod.Get)
        {
            uri = WithQuery(uri, parameters);
        }
        else
        {
            content = JsonContent.Create(parameters);
        }

        var apiKey = tool.EncryptedApiKey is { } encrypted ? await protector.DecryptAsync(tool.Id, encrypted, cancellationToken) : null;
        using (content)
        {
            var request = new OutboundRequest(method, uri, new Dictionary<string, string> { ["Accept"] = "application/json" }, content)
            {
                OriginBoundHeaders = apiKey is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [tool.ApiKeyHeader] = apiKey },
            };
            var response = await OutboundCall.SendAsync(http, request, cancellationToken);
            if (apiKey is not null)
            {
                // An endpoint echoing its credentials must not leak them to the caller.
                response = response with { Body = Redact(response.Body, apiKey) };
            }

            if (response.StatusCode >= 400)
            {
                throw new ToolExecutionException($"The tool's endpoint answered {response.StatusCode}.");
            }

            return OutboundCall.Body(response);
        }
    }

    private static Uri WithQuery(Uri uri, JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return uri;
        }

        var query = new StringBuilder(uri.Query.TrimStart('?'));
        foreach (var property in parameters.EnumerateObject())
        {
            var value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
            query.Append(query.Length == 0 ? "" : "&").Append(Uri.EscapeDataString(property.Name)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
        }

        return new UriBuilder(uri) { Query = query.ToString() }.Uri;
    }

    private static byte[] Redact(byte[] body, string secret)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Contains(secret, StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(text.Replace(secret, "***", StringComparison.Ordinal)) : body;
    }
}

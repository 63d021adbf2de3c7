using System.Security.Claims;
using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>
/// The fixture tools the MCP conformance suite (<c>@modelcontextprotocol/conformance</c>, server mode) calls, served
/// instead of the caller's tools when <c>Mcp:Server:ConformanceFixtures</c> is true. Test configurations only.
/// </summary>
internal sealed class ConformanceFixtureCatalog : IMcpToolCatalog
{
    // 1x1 red PNG and a 44-byte silent WAV header: the smallest valid payloads.
    private const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    private const string Wav = "UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=";

    private static readonly JsonElement NoArguments = JsonElement.Parse("""{"type":"object","properties":{}}""");

    private static readonly IReadOnlyList<Tool> Tools =
    [
        Fixture("test_simple_text", "Returns simple text content."),
        Fixture("test_image_content", "Returns image content."),
        Fixture("test_audio_content", "Returns audio content."),
        Fixture("test_embedded_resource", "Returns an embedded resource."),
        Fixture("test_multiple_content_types", "Returns text, image and resource content."),
        Fixture("test_error_handling", "Always fails."),
        new()
        {
            Name = "json_schema_2020_12_tool",
            Description = "Tool with JSON Schema 2020-12 features",
            InputSchema = JsonElement.Parse("""
                {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
                 "$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},
                 "properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"}},"additionalProperties":false}
                """),
        },
    ];

    public ValueTask<IReadOnlyList<Tool>> ListToolsAsync(ClaimsPrincipal caller, CancellationToken cancellationToken) => ValueTask.FromResult(Tools);

    public ValueTask<CallToolResult?> CallToolAsync(ClaimsPrincipal caller, string name, IReadOnlyDictionary<string, JsonElement> arguments, CancellationToken cancellationToken) =>
        ValueTask.FromResult<CallToolResult?>(name switch
        {
            "test_simple_text" => new() { Content = [new TextContentBlock { Text = "This is a simple text response for testing." }] },
            "test_image_content" => new() { Content = [Image()] },
            "test_audio_content" => new() { Content = [AudioContentBlock.FromBytes(Convert.FromBase64String(Wav), "audio/wav")] },
            "test_embedded_resource" => new() { Content = [Resource()] },
            "test_multiple_content_types" => new() { Content = [new TextContentBlock { Text = "Multiple content types test:" }, Image(), Resource()] },
            "test_error_handling" => McpResults.Failure("This tool intentionally returns an error for testing"),
            "json_schema_2020_12_tool" => new() { Content = [new TextContentBlock { Text = "ok" }] },
            _ => null,
        });

    private static Tool Fixture(string name, string description) => new() { Name = name, Description = description, InputSchema = NoArguments };

    private static ImageContentBlock Image() => ImageContentBlock.FromBytes(Convert.FromBase64String(Png), "image/png");

    private static EmbeddedResourceBlock Resource() => new()
    {
        Resource = new TextResourceContents { Uri = "test://embedded-resource", MimeType = "text/plain", Text = "This is an embedded resource content." },
    };
}

using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AgentVerse.Tools.Mcp.Server;

/// <summary>
/// The stand-in catalog while the registry is not wired: <c>calculator</c> and <c>echo</c>, the same for every caller.
/// </summary>
internal sealed class FixedToolCatalog : IMcpToolCatalog
{
    private static readonly IReadOnlyList<Tool> Tools =
    [
        new()
        {
            Name = "calculator",
            Description = "Evaluates a binary arithmetic operation.",
            InputSchema = JsonElement.Parse("""
                {"type":"object","properties":{"operation":{"type":"string","enum":["add","subtract","multiply","divide"]},
                "a":{"type":"number"},"b":{"type":"number"}},"required":["operation","a","b"]}
                """),
            OutputSchema = JsonElement.Parse("""{"type":"object","properties":{"result":{"type":"number"}},"required":["result"]}"""),
        },
        new()
        {
            Name = "echo",
            Description = "Returns its message.",
            InputSchema = JsonElement.Parse("""{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}"""),
        },
    ];

    public ValueTask<IReadOnlyList<Tool>> ListToolsAsync(ClaimsPrincipal caller, CancellationToken cancellationToken) => ValueTask.FromResult(Tools);

    public ValueTask<CallToolResult?> CallToolAsync(ClaimsPrincipal caller, string name, IReadOnlyDictionary<string, JsonElement> arguments, CancellationToken cancellationToken) =>
        ValueTask.FromResult(name switch
        {
            "calculator" => Calculate(arguments),
            "echo" => arguments.TryGetValue("message", out var message) && message.ValueKind == JsonValueKind.String
                ? Text(message.GetString()!)
                : Failure("'message' must be a string."),
            _ => null,
        });

    private static CallToolResult Calculate(IReadOnlyDictionary<string, JsonElement> arguments)
    {
        if (!arguments.TryGetValue("a", out var a) || a.ValueKind != JsonValueKind.Number
            || !arguments.TryGetValue("b", out var b) || b.ValueKind != JsonValueKind.Number
            || !arguments.TryGetValue("operation", out var operation) || operation.ValueKind != JsonValueKind.String)
        {
            return Failure("'operation' (string), 'a' and 'b' (numbers) are required.");
        }

        double x = a.GetDouble(), y = b.GetDouble();
        double? result = operation.GetString() switch
        {
            "add" => x + y,
            "subtract" => x - y,
            "multiply" => x * y,
            "divide" when y == 0 => null,
            "divide" => x / y,
            var other => throw new ArgumentException($"Unknown operation '{other}'."),
        };
        if (result is not { } value)
        {
            return Failure("Division by zero.");
        }

        var structured = new JsonObject { ["result"] = value };
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = value.ToString(CultureInfo.InvariantCulture) }],
            StructuredContent = JsonSerializer.SerializeToElement(structured),
        };
    }

    private static CallToolResult Text(string text) => new() { Content = [new TextContentBlock { Text = text }] };

    internal static CallToolResult Failure(string message) => new() { Content = [new TextContentBlock { Text = message }], IsError = true };
}

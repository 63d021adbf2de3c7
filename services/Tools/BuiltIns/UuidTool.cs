using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Tools.BuiltIns;

/// <summary>Random (version 4) UUIDs.</summary>
public sealed class UuidTool : IBuiltInTool
{
    public const int MaxCount = 100;

    public string Name => "uuid";

    public string Description => "Generates random version-4 UUIDs (1 to 100).";

    public JsonElement InputSchema { get; } = Schemas.Parse($$"""
        {"type":"object","additionalProperties":false,
         "properties":{"count":{"type":"integer","minimum":1,"maximum":{{MaxCount}},"description":"How many (default 1)","example":3} } }
        """);

    public JsonElement OutputSchema { get; } = Schemas.Parse("""
        {"type":"object","description":"The generated UUIDs","example":{"uuids":["0b7d2c1e-5d1f-4a57-9d0b-1d8f7e2b9c3a"]}}
        """);

    public IReadOnlyList<string> Capabilities { get; } = ["random"];

    public ValueTask<JsonNode?> ExecuteAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var count = parameters.TryGetProperty("count", out var value) ? (int)value.GetDouble() : 1;
        var uuids = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            uuids.Add(Guid.NewGuid().ToString());
        }

        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["uuids"] = uuids });
    }
}

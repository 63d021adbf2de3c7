using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Tools.BuiltIns;

/// <summary>A standard tool that runs inside this service; its arguments were validated against <see cref="InputSchema"/>.</summary>
public interface IBuiltInTool
{
    string Name { get; }

    string Description { get; }

    JsonElement InputSchema { get; }

    JsonElement OutputSchema { get; }

    IReadOnlyList<string> Capabilities { get; }

    ValueTask<JsonNode?> ExecuteAsync(JsonElement parameters, CancellationToken cancellationToken);
}

/// <summary>The tool ran and refused or failed in a way the caller can fix (a message safe to return).</summary>
public sealed class ToolExecutionException(string message) : Exception(message);

internal static class Schemas
{
    public static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static string? OptionalString(this JsonElement parameters, string name) =>
        parameters.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static string RequiredString(this JsonElement parameters, string name) =>
        parameters.OptionalString(name) ?? throw new ToolExecutionException($"'{name}' is required.");
}

using System.Text.Json;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>
/// Reading JSON the way daprd's Go decoder (encoding/json) does where the two differ from System.Text.Json.
/// </summary>
internal static class GoJson
{
    /// <summary>
    /// An object's property by its struct tag name: an exact match first, else the first key equal to it ignoring
    /// case, as <c>json.Unmarshal</c> matches keys. Null when <paramref name="element"/> is not an object or has no such key.
    /// </summary>
    public static JsonElement? Property(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        if (element.TryGetProperty(name, out var exact))
        {
            return exact;
        }
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }
        return null;
    }
}

using System.Text.Json;

namespace AgentVerse.Dapr.Workflow;

/// <summary>JSON (de)serialization of payloads; <see langword="null"/> travels as an absent value.</summary>
internal sealed class WorkflowSerializer(JsonSerializerOptions options)
{
    public JsonSerializerOptions Options { get; } = options;

    public string? Serialize(object? value)
        => value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Options);

    public object? Deserialize(string? json, Type type)
    {
        if (string.IsNullOrEmpty(json))
        {
            return type.IsValueType && Nullable.GetUnderlyingType(type) is null ? Activator.CreateInstance(type) : null;
        }

        return JsonSerializer.Deserialize(json, type, Options);
    }

    public T Deserialize<T>(string? json) => (T)Deserialize(json, typeof(T))!;
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentVerse.ServiceDefaults.Errors;

/// <summary>
/// Reads JSON strings in request bodies and refuses one that holds an unpaired UTF-16 surrogate (<c>"\ud800"</c>):
/// such a string is not text, cannot be written as UTF-8, and would fail later, deep in storage or a reply, as a 500.
/// A JsonException here becomes a 400 naming the field. (Invalid UTF-8 bytes are refused by the reader itself.)
/// </summary>
internal sealed class StrictStringConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var value = reader.GetString()!;
        return IsWellFormed(value) ? value : throw new JsonException("The string holds an unpaired surrogate; it is not valid text.");
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    private static bool IsWellFormed(string value)
    {
        // Most strings hold no surrogate at all: a vectorized search, then the pairs are checked from the first one.
        var first = value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
        {
            return true;
        }

        for (var i = first; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }
}

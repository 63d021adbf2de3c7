using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentVerse.Tools.Schema;

/// <summary>One failed schema keyword, at the JSON path of the offending value.</summary>
public sealed record SchemaError(string Path, string Keyword, string Message);

/// <summary>
/// A small JSON Schema validator for the keywords tool schemas use: type (integer and type arrays included),
/// required, properties, additionalProperties (bool or schema), enum, const, minimum/maximum and their exclusive
/// forms, minLength/maxLength, pattern (with a match timeout), items, minItems/maxItems. Unknown keywords are
/// ignored, as the specification asks.
/// </summary>
public static class JsonSchemaValidator
{
    private const int MaxDepth = 64;
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    /// <summary>Validates <paramref name="instance"/>; an empty list means valid.</summary>
    public static IReadOnlyList<SchemaError> Validate(JsonElement schema, JsonElement instance, string rootPath = "$")
    {
        var errors = new List<SchemaError>();
        Validate(schema, instance, rootPath, errors, 0);
        return errors;
    }

    private static void Validate(JsonElement schema, JsonElement instance, string path, List<SchemaError> errors, int depth)
    {
        if (schema.ValueKind == JsonValueKind.False)
        {
            errors.Add(new(path, "false", "No value is allowed here."));
            return;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (depth > MaxDepth)
        {
            errors.Add(new(path, "depth", $"The value is nested deeper than {MaxDepth} levels."));
            return;
        }

        if (schema.TryGetProperty("type", out var type) && !MatchesType(type, instance))
        {
            errors.Add(new(path, "type", $"Expected {DescribeType(type)} but found {KindName(instance)}."));
            return;
        }

        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(constant, instance))
        {
            errors.Add(new(path, "const", $"The value must be {constant.GetRawText()}."));
        }

        if (schema.TryGetProperty("enum", out var allowed) && allowed.ValueKind == JsonValueKind.Array
            && !allowed.EnumerateArray().Any(a => JsonElement.DeepEquals(a, instance)))
        {
            errors.Add(new(path, "enum", $"The value must be one of {allowed.GetRawText()}."));
        }

        switch (instance.ValueKind)
        {
            case JsonValueKind.Number:
                ValidateNumber(schema, instance.GetDouble(), path, errors);
                break;
            case JsonValueKind.String:
                ValidateString(schema, instance.GetString()!, path, errors);
                break;
            case JsonValueKind.Array:
                ValidateArray(schema, instance, path, errors, depth);
                break;
            case JsonValueKind.Object:
                ValidateObject(schema, instance, path, errors, depth);
                break;
        }
    }

    private static void ValidateNumber(JsonElement schema, double value, string path, List<SchemaError> errors)
    {
        if (Number(schema, "minimum") is { } minimum && value < minimum)
        {
            errors.Add(new(path, "minimum", $"The value must be at least {Format(minimum)}."));
        }

        if (Number(schema, "maximum") is { } maximum && value > maximum)
        {
            errors.Add(new(path, "maximum", $"The value must be at most {Format(maximum)}."));
        }

        if (Number(schema, "exclusiveMinimum") is { } exclusiveMinimum && value <= exclusiveMinimum)
        {
            errors.Add(new(path, "exclusiveMinimum", $"The value must be greater than {Format(exclusiveMinimum)}."));
        }

        if (Number(schema, "exclusiveMaximum") is { } exclusiveMaximum && value >= exclusiveMaximum)
        {
            errors.Add(new(path, "exclusiveMaximum", $"The value must be less than {Format(exclusiveMaximum)}."));
        }
    }

    private static void ValidateString(JsonElement schema, string value, string path, List<SchemaError> errors)
    {
        // Length in code points, as the specification counts it.
        var length = value.EnumerateRunes().Count();
        if (Number(schema, "minLength") is { } minLength && length < minLength)
        {
            errors.Add(new(path, "minLength", $"The value must be at least {Format(minLength)} characters long."));
        }

        if (Number(schema, "maxLength") is { } maxLength && length > maxLength)
        {
            errors.Add(new(path, "maxLength", $"The value must be at most {Format(maxLength)} characters long."));
        }

        if (schema.TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.String)
        {
            try
            {
                if (!PatternFor(pattern.GetString()!).IsMatch(value))
                {
                    errors.Add(new(path, "pattern", $"The value does not match the pattern {pattern.GetString()}."));
                }
            }
            catch (RegexMatchTimeoutException)
            {
                errors.Add(new(path, "pattern", "The pattern took too long to evaluate."));
            }
            catch (ArgumentException)
            {
                errors.Add(new(path, "pattern", "The schema's pattern is not a valid regular expression."));
            }
        }
    }

    private static void ValidateArray(JsonElement schema, JsonElement instance, string path, List<SchemaError> errors, int depth)
    {
        var count = instance.GetArrayLength();
        if (Number(schema, "minItems") is { } minItems && count < minItems)
        {
            errors.Add(new(path, "minItems", $"The array must have at least {Format(minItems)} items."));
        }

        if (Number(schema, "maxItems") is { } maxItems && count > maxItems)
        {
            errors.Add(new(path, "maxItems", $"The array must have at most {Format(maxItems)} items."));
        }

        if (schema.TryGetProperty("items", out var items) && items.ValueKind is JsonValueKind.Object or JsonValueKind.False)
        {
            var index = 0;
            foreach (var item in instance.EnumerateArray())
            {
                Validate(items, item, string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]"), errors, depth + 1);
                index++;
            }
        }
    }

    private static void ValidateObject(JsonElement schema, JsonElement instance, string path, List<SchemaError> errors, int depth)
    {
        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind == JsonValueKind.String && !instance.TryGetProperty(name.GetString()!, out _))
                {
                    errors.Add(new(Child(path, name.GetString()!), "required", "The value is required."));
                }
            }
        }

        var hasProperties = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;
        var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
        foreach (var property in instance.EnumerateObject())
        {
            var childPath = Child(path, property.Name);
            if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
            {
                Validate(propertySchema, property.Value, childPath, errors, depth + 1);
            }
            else if (hasAdditional)
            {
                if (additional.ValueKind == JsonValueKind.False)
                {
                    errors.Add(new(childPath, "additionalProperties", "This property is not allowed."));
                }
                else
                {
                    Validate(additional, property.Value, childPath, errors, depth + 1);
                }
            }
        }
    }

    private static bool MatchesType(JsonElement type, JsonElement instance) => type.ValueKind switch
    {
        JsonValueKind.String => MatchesType(type.GetString()!, instance),
        JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && MatchesType(t.GetString()!, instance)),
        _ => true,
    };

    private static bool MatchesType(string type, JsonElement instance) => type switch
    {
        "object" => instance.ValueKind == JsonValueKind.Object,
        "array" => instance.ValueKind == JsonValueKind.Array,
        "string" => instance.ValueKind == JsonValueKind.String,
        "number" => instance.ValueKind == JsonValueKind.Number,
        "integer" => instance.ValueKind == JsonValueKind.Number && IsInteger(instance),
        "boolean" => instance.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => instance.ValueKind == JsonValueKind.Null,
        _ => false,
    };

    // 1.0 is an integer too (the specification counts the mathematical value, not the spelling).
    private static bool IsInteger(JsonElement number) =>
        number.TryGetInt64(out _) || (number.TryGetDouble(out var value) && double.IsFinite(value) && Math.Floor(value) == value);

    private static string DescribeType(JsonElement type) => type.ValueKind == JsonValueKind.Array
        ? string.Join(" or ", type.EnumerateArray().Select(t => t.ToString()))
        : type.ToString();

    private static string KindName(JsonElement instance) => instance.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => IsInteger(instance) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static double? Number(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Child(string path, string name) =>
        IsIdentifier(name) ? $"{path}.{name}" : $"{path}['{name.Replace("'", "\\'", StringComparison.Ordinal)}']";

    private static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static Regex PatternFor(string pattern)
    {
        if (Patterns.TryGetValue(pattern, out var regex))
        {
            return regex;
        }

        regex = new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
        // Bounded: schemas come from users, so the cache must not grow without limit.
        if (Patterns.Count < 1_000)
        {
            Patterns.TryAdd(pattern, regex);
        }

        return regex;
    }
}

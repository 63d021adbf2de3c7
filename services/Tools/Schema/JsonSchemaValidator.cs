using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Pointer;
using Json.Schema;

namespace AgentVerse.Tools.Schema;

/// <summary>One failed schema keyword, at the JSON path of the offending value.</summary>
public sealed record SchemaError(string Path, string Keyword, string Message);

/// <summary>
/// Validates tool inputs and outputs against their JSON Schemas with JsonSchema.Net (every keyword of the
/// specification: <c>$ref</c>/<c>$defs</c>, <c>anyOf</c>/<c>oneOf</c>/<c>allOf</c>/<c>not</c>, conditionals …), and
/// reports each failure at the JSON path of the value that failed, a missing required property at its own path.
/// Schemas come from users: each is built in a registry of its own (an <c>$id</c> cannot shadow another schema), only
/// references within the schema resolve (nothing is fetched), and patterns run under the process's regex match
/// timeout (set by the tools service at start-up), a timeout being a failed <c>pattern</c>.
/// </summary>
public static class JsonSchemaValidator
{
    private const int MaxCachedSchemas = 1_000;
    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new(StringComparer.Ordinal);
    private static readonly EvaluationOptions Flag = new() { OutputFormat = OutputFormat.Flag };
    private static readonly EvaluationOptions List = new() { OutputFormat = OutputFormat.List };

    /// <summary>Validates <paramref name="instance"/>; an empty list means valid.</summary>
    public static IReadOnlyList<SchemaError> Validate(JsonElement schema, JsonElement instance, string rootPath = "$")
    {
        JsonSchema built;
        try
        {
            built = Build(schema);
            // The cheap verdict first: most calls are valid and need no details.
            if (built.Evaluate(instance, Flag).IsValid)
            {
                return [];
            }

            return Errors(schema, instance, rootPath, built.Evaluate(instance, List));
        }
        catch (RegexMatchTimeoutException)
        {
            return [new SchemaError(rootPath, "pattern", "A pattern of the schema took too long to evaluate.")];
        }
        catch (Exception e) when (e is RefResolutionException or JsonSchemaException or JsonException or ArgumentException)
        {
            return [new SchemaError(rootPath, "$schema", $"The schema cannot be used: {e.Message}")];
        }
    }

    /// <summary>
    /// Why <paramref name="schema"/> cannot be a tool's schema, or null: it does not build, or a reference leaves it
    /// (nothing is ever fetched, so such a schema would fail every call) or points at nothing within it.
    /// </summary>
    public static string? Problem(JsonElement schema)
    {
        try
        {
            Build(schema);
        }
        catch (Exception e) when (e is JsonSchemaException or JsonException or ArgumentException)
        {
            return e.Message;
        }

        return ReferenceProblem(schema, schema, depth: 0);
    }

    private static string? ReferenceProblem(JsonElement root, JsonElement node, int depth)
    {
        if (depth > 64)
        {
            return "The schema is nested deeper than 64 levels.";
        }

        switch (node.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in node.EnumerateObject())
                {
                    if (property.Name is "$ref" or "$dynamicRef" or "$recursiveRef" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        var reference = property.Value.GetString()!;
                        if (!reference.StartsWith('#'))
                        {
                            return $"The schema refers to '{reference}' outside itself; only references within it (\"#/$defs/...\") are allowed.";
                        }

                        if (reference.StartsWith("#/", StringComparison.Ordinal)
                            && (!JsonPointer.TryParse(Uri.UnescapeDataString(reference[1..]), out var pointer) || pointer.Evaluate(root) is null))
                        {
                            return $"The schema's reference '{reference}' points at nothing within it.";
                        }
                    }
                    else if (ReferenceProblem(root, property.Value, depth + 1) is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in node.EnumerateArray())
                {
                    if (ReferenceProblem(root, item, depth + 1) is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static JsonSchema Build(JsonElement schema)
    {
        var text = schema.GetRawText();
        if (Schemas.TryGetValue(text, out var built))
        {
            return built;
        }

        // Draft 2020-12 unless the schema says otherwise: the dialect MCP and model tool schemas are written in; it ignores
        // unknown keywords (such as "example"), as JSON Schema asks.
        built = JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Dialect.Draft202012 });
        // Bounded: schemas come from users, so the cache must not grow without limit.
        if (Schemas.Count < MaxCachedSchemas)
        {
            Schemas.TryAdd(text, built);
        }

        return built;
    }

    private static List<SchemaError> Errors(JsonElement schema, JsonElement instance, string rootPath, EvaluationResults results)
    {
        var nodes = (results.Details ?? []).Prepend(results).ToList();
        var errors = new List<SchemaError>();
        foreach (var result in nodes)
        {
            var path = PathOf(instance, result.InstanceLocation, rootPath);
            if (result.Errors is not { Count: > 0 } messages)
            {
                // Applicators such as oneOf and not fail a node without a message of their own: report the deepest such
                // node, by the applicator its schema has.
                if (!result.IsValid && !nodes.Any(n => !n.IsValid && !ReferenceEquals(n, result) && IsAtOrBelow(n.EvaluationPath, result.EvaluationPath)))
                {
                    var keyword = ApplicatorOf(schema, result) ?? "schema";
                    errors.Add(new SchemaError(path, keyword, $"The value does not satisfy the schema's {keyword}."));
                }

                continue;
            }

            foreach (var (keyword, message) in messages)
            {
                if (keyword == "required" && MissingProperties(schema, instance, result) is { Count: > 0 } missing)
                {
                    errors.AddRange(missing.Select(name => new SchemaError(Child(path, name), "required", "The value is required.")));
                }
                else
                {
                    // A false schema fails without a keyword of its own: name the keyword that applied it.
                    errors.Add(new SchemaError(path, keyword.Length > 0 ? keyword : LastSegment(result.EvaluationPath), message));
                }
            }
        }

        return [.. errors.DistinctBy(e => (e.Path, e.Keyword, e.Message))];
    }

    private static bool IsAtOrBelow(JsonPointer candidate, JsonPointer ancestor) =>
        candidate.ToString() == ancestor.ToString() || candidate.ToString().StartsWith(ancestor.ToString() + "/", StringComparison.Ordinal);

    private static readonly string[] Applicators = ["oneOf", "anyOf", "allOf", "not", "if", "contains", "dependentSchemas", "$ref"];

    /// <summary>The applicator keyword of the schema node behind <paramref name="result"/>, when it has one.</summary>
    private static string? ApplicatorOf(JsonElement schema, EvaluationResults result) =>
        SchemaAt(schema, result) is { ValueKind: JsonValueKind.Object } node ? Applicators.FirstOrDefault(a => node.TryGetProperty(a, out _)) : null;

    /// <summary>The subschema a result was evaluated against, from its schema location's fragment.</summary>
    private static JsonElement? SchemaAt(JsonElement schema, EvaluationResults result)
    {
        var fragment = result.SchemaLocation.Fragment;
        return JsonPointer.TryParse(fragment.Length > 1 ? Uri.UnescapeDataString(fragment[1..]) : "", out var pointer) ? pointer.Evaluate(schema) : null;
    }

    /// <summary>The properties a failed <c>required</c> names that the object lacks, read from the schema at the failure's location.</summary>
    private static List<string> MissingProperties(JsonElement schema, JsonElement instance, EvaluationResults result)
    {
        if (SchemaAt(schema, result) is not { ValueKind: JsonValueKind.Object } subschema || !subschema.TryGetProperty("required", out var required)
            || required.ValueKind != JsonValueKind.Array || result.InstanceLocation.Evaluate(instance) is not { ValueKind: JsonValueKind.Object } value)
        {
            return [];
        }

        return [.. required.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String && !value.TryGetProperty(n.GetString()!, out _)).Select(n => n.GetString()!)];
    }

    /// <summary><c>$.a.b[1]</c> for the pointer <c>/a/b/1</c> into <paramref name="instance"/>: indexes where the value is an array.</summary>
    private static string PathOf(JsonElement instance, JsonPointer pointer, string rootPath)
    {
        var path = rootPath;
        var current = instance;
        for (var i = 0; i < pointer.SegmentCount; i++)
        {
            var segment = pointer[i].ToString();
            if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < current.GetArrayLength())
            {
                path = string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]");
                current = current[index];
            }
            else
            {
                path = Child(path, segment);
                current = current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out var child) ? child : default;
            }
        }

        return path;
    }

    private static string LastSegment(JsonPointer pointer) => pointer.SegmentCount == 0 ? "false" : pointer[pointer.SegmentCount - 1].ToString();

    private static string Child(string path, string name) =>
        IsIdentifier(name) ? $"{path}.{name}" : $"{path}['{name.Replace("'", "\\'", StringComparison.Ordinal)}']";

    private static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

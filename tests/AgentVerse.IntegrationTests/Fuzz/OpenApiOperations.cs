using System.Text.Json;

namespace AgentVerse.IntegrationTests.Fuzz;

/// <summary>One parameter of an operation: where it goes and the JSON Schema type it declares.</summary>
public sealed record OperationParameter(string Name, string In, string? Type);

/// <summary>One operation of a service's OpenAPI document, with its body schema resolved when it has one.</summary>
public sealed record Operation(string Service, string Method, string Path, IReadOnlyList<OperationParameter> Parameters, JsonElement? BodySchema)
{
    public override string ToString() => $"{Method} {Path}";
}

/// <summary>Reads the operations of an OpenAPI 3 document (as Microsoft.AspNetCore.OpenApi writes them).</summary>
public static class OpenApiOperations
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    public static IReadOnlyList<Operation> Read(string service, JsonElement document)
    {
        var operations = new List<Operation>();
        if (!document.TryGetProperty("paths", out var paths))
        {
            return operations;
        }

        foreach (var path in paths.EnumerateObject())
        {
            var shared = path.Value.TryGetProperty("parameters", out var common) ? Parameters(document, common) : [];
            foreach (var method in Methods)
            {
                if (!path.Value.TryGetProperty(method, out var operation))
                {
                    continue;
                }

                var parameters = operation.TryGetProperty("parameters", out var own) ? [.. shared, .. Parameters(document, own)] : shared;
                JsonElement? body = null;
                if (operation.TryGetProperty("requestBody", out var requestBody) && requestBody.TryGetProperty("content", out var content))
                {
                    foreach (var media in content.EnumerateObject())
                    {
                        if (media.Value.TryGetProperty("schema", out var schema))
                        {
                            body = Resolve(document, schema);
                            break;
                        }
                    }
                }

                operations.Add(new Operation(service, method.ToUpperInvariant(), path.Name, parameters, body));
            }
        }

        return operations;
    }

    /// <summary>The schema a <c>$ref</c> points at, or the schema itself.</summary>
    public static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        for (var hops = 0; hops < 10 && schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var reference); hops++)
        {
            var target = document;
            foreach (var segment in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                if (!target.TryGetProperty(segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal), out target))
                {
                    return schema;
                }
            }

            schema = target;
        }

        return schema;
    }

    private static List<OperationParameter> Parameters(JsonElement document, JsonElement list) =>
        [.. list.EnumerateArray().Select(p => Resolve(document, p)).Select(p => new OperationParameter(
            p.GetProperty("name").GetString()!,
            p.GetProperty("in").GetString()!,
            p.TryGetProperty("schema", out var schema) ? TypeOf(document, schema) : null))];

    public static string? TypeOf(JsonElement document, JsonElement schema)
    {
        var resolved = Resolve(document, schema);
        if (resolved.ValueKind != JsonValueKind.Object || !resolved.TryGetProperty("type", out var type))
        {
            return null;
        }

        return type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t != "null")
            : type.GetString();
    }
}

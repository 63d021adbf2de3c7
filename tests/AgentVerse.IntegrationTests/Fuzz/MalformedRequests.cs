using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.IntegrationTests.Fuzz;

/// <summary>One request the fuzzer sends: what it tries, and its exact bytes where they matter.</summary>
public sealed record FuzzRequest(string Description, string Method, string PathAndQuery, byte[]? Body = null, string? ContentType = null,
    (string Name, string Value)? Header = null)
{
    public override string ToString() => $"{Method} {PathAndQuery} [{Description}]";
}

/// <summary>
/// Malformed variants of an operation, from its OpenAPI description: bad path and query values, bodies that are not
/// JSON or not the declared JSON, wrong content types, lone surrogates and invalid UTF-8, deep nesting, huge values,
/// odd headers (broken credentials, spoofed identity and sidecar headers, bad trace context).
/// Deterministic for a seed.
/// </summary>
public sealed class MalformedRequests(JsonElement document, Random random)
{
    /// <summary>Path and query values, percent-encoded as sent: separators, NUL, invalid UTF-8, a lone surrogate, huge, odd numbers.</summary>
    private static readonly string[] BadValues =
    [
        "%7C%7C", "a%7C%7Cb", "%00", "%FF%FE", "%ED%A0%80", "%F0%9F%98%80", "..", "%2E%2E%2F%2E%2E", "%2F", "%20", "%3Cscript%3E",
        "null", "-1", "0", "99999999999999999999", "1e309", "NaN", "true", new string('a', 2_000), "%25", "%",
    ];

    /// <summary>Bodies that are not the JSON a handler expects, or not JSON at all.</summary>
    private static readonly (string Description, byte[] Bytes)[] BadBodies =
    [
        ("empty body", []),
        ("truncated object", "{\"name\":"u8.ToArray()),
        ("unterminated string", "{\"name\":\"abc"u8.ToArray()),
        ("array root", "[1,2,3]"u8.ToArray()),
        ("string root", "\"just a string\""u8.ToArray()),
        ("number root", "42"u8.ToArray()),
        ("null root", "null"u8.ToArray()),
        ("trailing garbage", "{}}}"u8.ToArray()),
        ("comments", "{/* c */}"u8.ToArray()),
        ("single quotes", "{'name':'x'}"u8.ToArray()),
        ("invalid utf-8", [.. "{\"name\":\""u8, 0xFF, 0xFE, 0xC3, .. "\"}"u8]),
        ("lone surrogate escape", "{\"name\":\"\\ud800\",\"description\":\"\\udfff x\"}"u8.ToArray()),
        ("NUL escape", "{\"name\":\"a\\u0000b\"}"u8.ToArray()),
        ("huge number", "{\"page\":1e400,\"pageSize\":99999999999999999999999}"u8.ToArray()),
        ("deep nesting", Encoding.ASCII.GetBytes(new string('[', 5_000) + new string(']', 5_000))),
        ("deep object", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 2_000)) + "1" + new string('}', 2_000))),
        ("duplicate keys", "{\"name\":\"a\",\"name\":\"b\"}"u8.ToArray()),
        ("binary", [0x00, 0x01, 0x02, 0xFF, 0x7F]),
    ];

    /// <summary>Headers a client may send wrong: each replaces or adds one header of an otherwise sane request.</summary>
    private static readonly (string Name, string Value)[] BadHeaders =
    [
        ("Authorization", "Bearer not.a.jwt"), ("Authorization", "Bearer " + new string('a', 6_000)), ("Authorization", "Basic Zm9vOmJhcg=="),
        ("Authorization", "Bearer"), ("X-User-ID", "admin"), ("X-User-Role", "admin"), ("dapr-api-token", "guess"), ("dapr-app-id", "gateway"),
        ("traceparent", "00-zzzz-yyyy-01"), ("tracestate", new string(',', 4_000)), ("X-Request-ID", "../../etc/passwd"),
        ("Accept", "application/klingon"), ("If-None-Match", "\""), ("Range", "bytes=-"), ("Mcp-Session-Id", "a||b"),
        ("MCP-Protocol-Version", "1999-01-01"), ("Content-Encoding", "gzip"), ("Cookie", "session=" + new string('c', 4_000)),
    ];

    private static readonly string[] BadContentTypes =
    [
        "text/plain", "application/xml", "application/json; charset=klingon", "application/json; charset=utf-16", "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded", "application/json; charset=\"", "*/*",
    ];

    public IEnumerable<FuzzRequest> For(Operation operation)
    {
        var pathParameters = operation.Parameters.Where(p => p.In == "path").ToList();
        var queryParameters = operation.Parameters.Where(p => p.In == "query").ToList();
        var hasBody = operation.BodySchema is not null || operation.Method is "POST" or "PUT" or "PATCH";

        foreach (var parameter in pathParameters)
        {
            foreach (var value in BadValues)
            {
                yield return Request(operation, $"path {parameter.Name}={Short(value)}", Path(operation, (parameter.Name, value)));
            }
        }

        foreach (var parameter in queryParameters)
        {
            foreach (var value in BadValues)
            {
                yield return Request(operation, $"query {parameter.Name}={Short(value)}", $"{Path(operation)}?{parameter.Name}={value}");
            }

            var repeated = string.Join('&', Enumerable.Repeat($"{parameter.Name}=1", 200));
            yield return Request(operation, $"query {parameter.Name} repeated 200 times", $"{Path(operation)}?{repeated}");
        }

        foreach (var header in BadHeaders)
        {
            var body = hasBody ? Encoding.UTF8.GetBytes(Plausible(operation.BodySchema).ToJsonString()) : null;
            yield return Request(operation, $"header {header.Name}: {Short(header.Value)}", Path(operation), body, hasBody ? "application/json" : null) with { Header = header };
        }

        if (!hasBody)
        {
            yield break;
        }

        foreach (var (description, bytes) in BadBodies)
        {
            yield return Request(operation, description, Path(operation), bytes, "application/json");
        }

        var plausible = Encoding.UTF8.GetBytes(Plausible(operation.BodySchema).ToJsonString());
        foreach (var contentType in BadContentTypes)
        {
            yield return Request(operation, $"content type {contentType}", Path(operation), plausible, contentType);
        }

        yield return Request(operation, "no content type", Path(operation), plausible, contentType: null);

        if (operation.BodySchema is { } schema && Properties(schema) is { Count: > 0 } properties)
        {
            foreach (var (name, propertySchema) in properties)
            {
                var wrong = Plausible(schema);
                wrong[name] = WrongTypeFor(OpenApiOperations.TypeOf(document, propertySchema));
                yield return Request(operation, $"wrong type for {name}", Path(operation), Encoding.UTF8.GetBytes(wrong.ToJsonString()), "application/json");
            }

            var (stringName, _) = properties[random.Next(properties.Count)];
            var huge = Plausible(schema);
            huge[stringName] = new string('x', 2 * 1024 * 1024);
            yield return Request(operation, $"2 MB value in {stringName}", Path(operation), Encoding.UTF8.GetBytes(huge.ToJsonString()), "application/json");

            var surrogate = Encoding.UTF8.GetString(plausible).Replace("\"x\"", "\"\\ud83d\"", StringComparison.Ordinal);
            yield return Request(operation, "lone surrogates in every string", Path(operation), Encoding.UTF8.GetBytes(surrogate), "application/json");

            var keys = Plausible(schema);
            foreach (var (name, _) in properties.Where(p => OpenApiOperations.TypeOf(document, p.Schema) == "string"))
            {
                keys[name] = "a||b\u0000" + new string('k', 300);
            }
            yield return Request(operation, "unstorable keys in every string", Path(operation), Encoding.UTF8.GetBytes(keys.ToJsonString()), "application/json");
        }
    }

    private static FuzzRequest Request(Operation operation, string description, string pathAndQuery, byte[]? body = null, string? contentType = null) =>
        new($"{operation}: {description}", operation.Method, pathAndQuery, body, contentType);

    /// <summary>The operation's path with <paramref name="bad"/> in one parameter and harmless values in the others.</summary>
    private string Path(Operation operation, (string Name, string Value)? bad = null)
    {
        var path = operation.Path;
        foreach (var parameter in operation.Parameters.Where(p => p.In == "path"))
        {
            var value = bad is { } b && b.Name == parameter.Name ? b.Value : "fuzz-" + random.Next(1000).ToString(CultureInfo.InvariantCulture);
            path = path.Replace("{" + parameter.Name + "}", value, StringComparison.Ordinal)
                .Replace("{*" + parameter.Name + "}", value, StringComparison.Ordinal)
                .Replace("{**" + parameter.Name + "}", value, StringComparison.Ordinal);
        }

        return path;
    }

    private List<(string Name, JsonElement Schema)> Properties(JsonElement schema) =>
        OpenApiOperations.Resolve(document, schema) is { ValueKind: JsonValueKind.Object } resolved && resolved.TryGetProperty("properties", out var properties)
            ? [.. properties.EnumerateObject().Select(p => (p.Name, p.Value))]
            : [];

    /// <summary>A body of the declared shape with simple values, for variants that break one thing at a time.</summary>
    private JsonObject Plausible(JsonElement? schema)
    {
        var body = new JsonObject();
        if (schema is { } s)
        {
            foreach (var (name, property) in Properties(s))
            {
                body[name] = OpenApiOperations.TypeOf(document, property) switch
                {
                    "string" => "x",
                    "integer" => 1,
                    "number" => 1.5,
                    "boolean" => true,
                    "array" => new JsonArray(),
                    _ => new JsonObject(),
                };
            }
        }

        return body;
    }

    private JsonNode? WrongTypeFor(string? type) => type switch
    {
        "string" => random.Next(3) switch { 0 => 12345, 1 => new JsonArray("a", 1), _ => new JsonObject { ["nested"] = true } },
        "integer" or "number" => random.Next(3) switch { 0 => "not a number", 1 => 1e308, _ => -99999999999 },
        "boolean" => "yes",
        "array" => random.Next(2) == 0 ? "not an array" : new JsonObject(),
        _ => random.Next(2) == 0 ? "not an object" : new JsonArray(1, 2, 3),
    };

    private static string Short(string value) => value.Length > 24 ? value[..24] + $"…({value.Length})" : value;
}

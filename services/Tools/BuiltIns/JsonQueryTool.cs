using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Tools.BuiltIns;

/// <summary>Selects values from JSON by a JSONPath subset: <c>$</c>, <c>.name</c>, <c>['name']</c>, <c>[n]</c> (negative from the end), <c>[*]</c>, <c>.*</c>.</summary>
public sealed class JsonQueryTool : IBuiltInTool
{
    public string Name => "json_query";

    public string Description => "Selects values from a JSON document with a JSONPath subset: $.a.b[0], $.items[*].name, $['key'], .*";

    public JsonElement InputSchema { get; } = Schemas.Parse("""
        {"type":"object","required":["data","path"],"additionalProperties":false,
         "properties":{
           "data":{"description":"The JSON document (any JSON value; a string is parsed as JSON when it is one)","example":{"items":[{"name":"a"}]}},
           "path":{"type":"string","minLength":1,"maxLength":512,"pattern":"^\\$","description":"The JSONPath","example":"$.items[*].name"}}}
        """);

    public JsonElement OutputSchema { get; } = Schemas.Parse("""
        {"type":"object","description":"Every matched value, in document order","example":{"matches":["a"],"count":1}}
        """);

    public IReadOnlyList<string> Capabilities { get; } = ["json"];

    public ValueTask<JsonNode?> ExecuteAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var data = parameters.GetProperty("data");
        if (data.ValueKind == JsonValueKind.String)
        {
            try
            {
                data = JsonDocument.Parse(data.GetString()!).RootElement;
            }
            catch (JsonException)
            {
                // A plain string stays a string.
            }
        }

        var matches = Select(data, parameters.RequiredString("path"));
        var array = new JsonArray();
        foreach (var match in matches)
        {
            array.Add(JsonNode.Parse(match.GetRawText()));
        }

        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["matches"] = array, ["count"] = matches.Count });
    }

    public static IReadOnlyList<JsonElement> Select(JsonElement root, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.StartsWith('$'))
        {
            throw new ToolExecutionException("The path must start with '$'.");
        }

        List<JsonElement> current = [root];
        var i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
                if (i < path.Length && path[i] == '*')
                {
                    i++;
                    current = [.. current.SelectMany(Children)];
                    continue;
                }

                var start = i;
                while (i < path.Length && path[i] != '.' && path[i] != '[')
                {
                    i++;
                }

                var name = path[start..i];
                if (name.Length == 0)
                {
                    throw Invalid(start);
                }

                current = [.. current.SelectMany(e => Property(e, name))];
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0)
                {
                    throw Invalid(i);
                }

                var inside = path[(i + 1)..end].Trim();
                if (inside == "*")
                {
                    current = [.. current.SelectMany(Children)];
                }
                else if (inside.Length >= 2 && inside[0] is '\'' or '"' && inside[^1] == inside[0])
                {
                    var name = inside[1..^1];
                    current = [.. current.SelectMany(e => Property(e, name))];
                }
                else if (int.TryParse(inside, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index))
                {
                    current = [.. current.SelectMany(e => Element(e, index))];
                }
                else
                {
                    throw Invalid(i);
                }

                i = end + 1;
            }
            else
            {
                throw Invalid(i);
            }
        }

        return current;
    }

    private static ToolExecutionException Invalid(int position) =>
        new(string.Create(CultureInfo.InvariantCulture, $"Unsupported JSONPath syntax at position {position + 1}."));

    private static IEnumerable<JsonElement> Children(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => element.EnumerateArray(),
        JsonValueKind.Object => element.EnumerateObject().Select(p => p.Value),
        _ => [],
    };

    private static IEnumerable<JsonElement> Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? [value] : [];

    private static IEnumerable<JsonElement> Element(JsonElement element, int index)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var length = element.GetArrayLength();
        var actual = index < 0 ? length + index : index;
        return actual >= 0 && actual < length ? [element[actual]] : [];
    }
}

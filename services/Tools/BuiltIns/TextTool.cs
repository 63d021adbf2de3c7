using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentVerse.Tools.BuiltIns;

/// <summary>Text operations; every regular expression runs with a match timeout, so a catastrophic pattern cannot hog a core.</summary>
public sealed class TextTool : IBuiltInTool
{
    public const int MaxTextLength = 1_000_000;
    private const int MaxResults = 10_000;
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(200);

    public string Name => "text";

    public string Description => "Text operations: 'extract' regex matches, 'split' by a separator, 'count' characters/words/lines (or pattern matches), 'replace' by regex.";

    public JsonElement InputSchema { get; } = Schemas.Parse($$"""
        {"type":"object","required":["operation","text"],"additionalProperties":false,
         "properties":{
           "operation":{"type":"string","enum":["extract","split","count","replace"],"description":"What to do","example":"extract"},
           "text":{"type":"string","maxLength":{{MaxTextLength}},"description":"The input text","example":"a1 b22 c333"},
           "pattern":{"type":"string","maxLength":1000,"description":"A .NET regular expression (extract, replace, optional for count)","example":"\\d+"},
           "replacement":{"type":"string","maxLength":10000,"description":"For replace: the replacement ($1 for groups)","example":"#"},
           "separator":{"type":"string","minLength":1,"maxLength":100,"description":"For split: a literal separator (default: newline)","example":","},
           "ignoreCase":{"type":"boolean","description":"Case-insensitive matching","example":false} } }
        """);

    public JsonElement OutputSchema { get; } = Schemas.Parse("""
        {"type":"object","description":"matches/parts/counts/text depending on the operation","example":{"matches":["1","22","333"],"count":3}}
        """);

    public IReadOnlyList<string> Capabilities { get; } = ["text", "regex"];

    public ValueTask<JsonNode?> ExecuteAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var text = parameters.RequiredString("text");
        try
        {
            JsonNode result = parameters.RequiredString("operation") switch
            {
                "extract" => Extract(text, Pattern(parameters, required: true)!),
                "split" => Split(text, parameters.OptionalString("separator") ?? "\n"),
                "count" => Count(text, Pattern(parameters, required: false)),
                _ => new JsonObject { ["text"] = Pattern(parameters, required: true)!.Replace(text, parameters.OptionalString("replacement") ?? "") },
            };
            return ValueTask.FromResult<JsonNode?>(result);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new ToolExecutionException("The regular expression took too long (match timeout).");
        }
    }

    private static Regex? Pattern(JsonElement parameters, bool required)
    {
        var pattern = required ? parameters.RequiredString("pattern") : parameters.OptionalString("pattern");
        if (pattern is null)
        {
            return null;
        }

        var options = RegexOptions.CultureInvariant;
        if (parameters.TryGetProperty("ignoreCase", out var ignoreCase) && ignoreCase.ValueKind == JsonValueKind.True)
        {
            options |= RegexOptions.IgnoreCase;
        }

        try
        {
            return new Regex(pattern, options, MatchTimeout);
        }
        catch (ArgumentException ex)
        {
            throw new ToolExecutionException($"Invalid regular expression: {ex.Message}");
        }
    }

    private static JsonObject Extract(string text, Regex regex)
    {
        var matches = new JsonArray();
        var groups = new JsonArray();
        foreach (Match match in regex.Matches(text))
        {
            if (matches.Count == MaxResults)
            {
                break;
            }

            matches.Add(match.Value);
            if (match.Groups.Count > 1)
            {
                groups.Add(new JsonArray([.. match.Groups.Cast<Group>().Skip(1).Select(g => (JsonNode?)g.Value)]));
            }
        }

        var result = new JsonObject { ["matches"] = matches, ["count"] = matches.Count };
        if (groups.Count > 0)
        {
            result["groups"] = groups;
        }

        return result;
    }

    private static JsonObject Split(string text, string separator)
    {
        var parts = text.Split(separator);
        if (parts.Length > MaxResults)
        {
            throw new ToolExecutionException($"More than {MaxResults} parts.");
        }

        return new JsonObject { ["parts"] = new JsonArray([.. parts.Select(p => (JsonNode?)p)]), ["count"] = parts.Length };
    }

    private static JsonObject Count(string text, Regex? regex)
    {
        var result = new JsonObject
        {
            ["characters"] = text.Length,
            ["words"] = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length,
            ["lines"] = text.Length == 0 ? 0 : text.Count(c => c == '\n') + 1,
        };
        if (regex is not null)
        {
            result["matches"] = regex.Count(text);
        }

        return result;
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml;

namespace AgentVerse.Tools.BuiltIns;

/// <summary>Current time, conversion between IANA time zones, adding durations (ISO-8601 or <c>1h30m</c>) and formatting.</summary>
public sealed partial class DateTimeTool(TimeProvider time) : IBuiltInTool
{
    public string Name => "datetime";

    public string Description => "Date and time: 'now' in a time zone, 'convert' between IANA time zones, 'add' an ISO-8601 (PT1H30M) or short (1h30m) duration, 'format' with a .NET format string.";

    public JsonElement InputSchema { get; } = Schemas.Parse("""
        {"type":"object","required":["operation"],"additionalProperties":false,
         "properties":{
           "operation":{"type":"string","enum":["now","convert","add","format"],"description":"What to do","example":"convert"},
           "datetime":{"type":"string","maxLength":64,"description":"An ISO-8601 date and time (default: now)","example":"2026-01-01T12:00:00Z"},
           "timezone":{"type":"string","maxLength":64,"description":"IANA time zone of the result (default UTC)","example":"Europe/Paris"},
           "fromTimezone":{"type":"string","maxLength":64,"description":"IANA time zone of a datetime without offset","example":"America/New_York"},
           "duration":{"type":"string","maxLength":64,"description":"For add: PT1H30M, P1D, 1h30m, -2d","example":"1h30m"},
           "format":{"type":"string","maxLength":64,"description":"For format: a .NET date format string","example":"yyyy-MM-dd HH:mm"}}}
        """);

    public JsonElement OutputSchema { get; } = Schemas.Parse("""
        {"type":"object","description":"The resulting instant in ISO-8601 with its offset and time zone","example":{"datetime":"2026-01-01T13:00:00+01:00","timezone":"Europe/Paris","unixSeconds":1767268800}}
        """);

    public IReadOnlyList<string> Capabilities { get; } = ["time"];

    public ValueTask<JsonNode?> ExecuteAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var operation = parameters.RequiredString("operation");
        var zoneId = parameters.OptionalString("timezone") ?? "UTC";
        var zone = Zone(zoneId);
        var instant = parameters.OptionalString("datetime") is { } text
            ? ParseInstant(text, parameters.OptionalString("fromTimezone") is { } from ? Zone(from) : TimeZoneInfo.Utc)
            : time.GetUtcNow();

        if (operation == "add")
        {
            instant = instant.Add(ParseDuration(parameters.RequiredString("duration")));
        }

        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var result = new JsonObject
        {
            ["datetime"] = local.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture),
            ["timezone"] = zone.Id,
            ["unixSeconds"] = local.ToUnixTimeSeconds(),
        };
        if (operation == "format")
        {
            try
            {
                result["formatted"] = local.ToString(parameters.RequiredString("format"), CultureInfo.InvariantCulture);
            }
            catch (FormatException)
            {
                throw new ToolExecutionException("Invalid format string.");
            }
        }

        return ValueTask.FromResult<JsonNode?>(result);
    }

    private static TimeZoneInfo Zone(string id)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ToolExecutionException($"Unknown time zone '{id}'.");
        }
    }

    private static DateTimeOffset ParseInstant(string text, TimeZoneInfo assumed)
    {
        if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed))
        {
            throw new ToolExecutionException($"'{text}' is not an ISO-8601 date and time.");
        }

        return parsed.Kind switch
        {
            DateTimeKind.Utc => new DateTimeOffset(parsed, TimeSpan.Zero),
            DateTimeKind.Local => new DateTimeOffset(parsed.ToUniversalTime(), TimeSpan.Zero),
            _ => new DateTimeOffset(parsed, assumed.GetUtcOffset(parsed)),
        };
    }

    /// <summary>ISO-8601 (<c>PT1H30M</c>, <c>-P1D</c>) or short form (<c>1h30m</c>, <c>2d</c>, <c>-45s</c>, <c>250ms</c>).</summary>
    public static TimeSpan ParseDuration(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.StartsWith('P') || trimmed.StartsWith("-P", StringComparison.Ordinal))
        {
            try
            {
                return XmlConvert.ToTimeSpan(trimmed);
            }
            catch (Exception ex) when (ex is FormatException or OverflowException)
            {
                throw new ToolExecutionException($"'{text}' is not a valid ISO-8601 duration.");
            }
        }

        var match = ShortDuration().Match(trimmed);
        if (!match.Success || match.Groups["part"].Captures.Count == 0)
        {
            throw new ToolExecutionException($"'{text}' is not a duration (PT1H30M or 1h30m).");
        }

        var total = TimeSpan.Zero;
        for (var i = 0; i < match.Groups["value"].Captures.Count; i++)
        {
            var value = double.Parse(match.Groups["value"].Captures[i].Value, CultureInfo.InvariantCulture);
            total += match.Groups["unit"].Captures[i].Value switch
            {
                "w" => TimeSpan.FromDays(value * 7),
                "d" => TimeSpan.FromDays(value),
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                _ => TimeSpan.FromMilliseconds(value),
            };
        }

        return match.Groups["sign"].Value == "-" ? -total : total;
    }

    [GeneratedRegex(@"^(?<sign>[-+]?)(?<part>(?<value>\d{1,9}(?:\.\d{1,9})?)\s*(?<unit>ms|w|d|h|m|s)\s*)+$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex ShortDuration();
}

using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Tools.BuiltIns;

namespace AgentVerse.Tools.Tests;

public sealed class BuiltInToolTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static Task<JsonNode?> RunAsync(IBuiltInTool tool, string parameters) =>
        tool.ExecuteAsync(JsonDocument.Parse(parameters).RootElement, default).AsTask();

    private sealed class FixedTime : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task Datetime_now_is_given_in_the_requested_time_zone()
    {
        var result = await RunAsync(new DateTimeTool(new FixedTime()), """{"operation":"now","timezone":"Asia/Tokyo"}""");
        Assert.Equal("2026-03-01T21:00:00+09:00", result!["datetime"]!.GetValue<string>());
        Assert.Equal(Now.ToUnixTimeSeconds(), result["unixSeconds"]!.GetValue<long>());
    }

    [Fact]
    public async Task Datetime_converts_between_iana_time_zones_across_daylight_saving()
    {
        var result = await RunAsync(new DateTimeTool(new FixedTime()),
            """{"operation":"convert","datetime":"2026-07-01T09:00:00","fromTimezone":"America/New_York","timezone":"Europe/Paris"}""");
        Assert.Equal("2026-07-01T15:00:00+02:00", result!["datetime"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("1h30m", "2026-03-01T13:30:00+00:00")]
    [InlineData("PT1H30M", "2026-03-01T13:30:00+00:00")]
    [InlineData("P1D", "2026-03-02T12:00:00+00:00")]
    [InlineData("-2d", "2026-02-27T12:00:00+00:00")]
    [InlineData("1w 2h 30s", "2026-03-08T14:00:30+00:00")]
    public async Task Datetime_adds_iso_8601_and_short_durations(string duration, string expected)
    {
        var result = await RunAsync(new DateTimeTool(new FixedTime()), $$"""{"operation":"add","datetime":"2026-03-01T12:00:00Z","duration":"{{duration}}"}""");
        Assert.Equal(expected, result!["datetime"]!.GetValue<string>());
    }

    [Fact]
    public async Task Datetime_formats_with_a_format_string()
    {
        var result = await RunAsync(new DateTimeTool(new FixedTime()), """{"operation":"format","format":"yyyy-MM-dd HH:mm","timezone":"UTC"}""");
        Assert.Equal("2026-03-01 12:00", result!["formatted"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"operation":"now","timezone":"Mars/Olympus"}""", "Unknown time zone")]
    [InlineData("""{"operation":"add","duration":"soon"}""", "not a duration")]
    [InlineData("""{"operation":"convert","datetime":"yesterday"}""", "not an ISO-8601")]
    public async Task Datetime_refuses_bad_input_with_a_message(string parameters, string message)
    {
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new DateTimeTool(new FixedTime()), parameters));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("$.a.b[0]", "[1]")]
    [InlineData("$.items[*].name", """["x","y"]""")]
    [InlineData("$.items[-1].name", """["y"]""")]
    [InlineData("$['a']['b'][1]", "[2]")]
    [InlineData("$.a.*", "[[1,2]]")]
    [InlineData("$.missing.deeper", "[]")]
    [InlineData("$", """[{"a":{"b":[1,2]},"items":[{"name":"x"},{"name":"y"}]}]""")]
    public async Task Json_query_selects_by_jsonpath(string path, string expected)
    {
        var result = await RunAsync(new JsonQueryTool(), $$"""{"data":{"a":{"b":[1,2]},"items":[{"name":"x"},{"name":"y"}]},"path":"{{path}}"}""");
        Assert.Equal(expected, result!["matches"]!.ToJsonString());
    }

    [Fact]
    public async Task Json_query_parses_data_given_as_a_json_string()
    {
        var result = await RunAsync(new JsonQueryTool(), """{"data":"{\"k\":[5]}","path":"$.k[0]"}""");
        Assert.Equal("[5]", result!["matches"]!.ToJsonString());
    }

    [Fact]
    public async Task Json_query_refuses_unsupported_syntax()
    {
        await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new JsonQueryTool(), """{"data":{},"path":"$..a[?(@.x)]"}"""));
    }

    [Fact]
    public async Task Text_extracts_matches_and_groups()
    {
        var result = await RunAsync(new TextTool(), """{"operation":"extract","text":"a=1, b=22","pattern":"(\\w)=(\\d+)"}""");
        Assert.Equal("""["a=1","b=22"]""", result!["matches"]!.ToJsonString());
        Assert.Equal("""[["a","1"],["b","22"]]""", result["groups"]!.ToJsonString());
    }

    [Fact]
    public async Task Text_splits_counts_and_replaces()
    {
        Assert.Equal("""["a","b","c"]""", (await RunAsync(new TextTool(), """{"operation":"split","text":"a,b,c","separator":","}"""))!["parts"]!.ToJsonString());
        var counts = await RunAsync(new TextTool(), """{"operation":"count","text":"one two\nthree","pattern":"o"}""");
        Assert.Equal(13, counts!["characters"]!.GetValue<int>());
        Assert.Equal(3, counts["words"]!.GetValue<int>());
        Assert.Equal(2, counts["lines"]!.GetValue<int>());
        Assert.Equal(2, counts["matches"]!.GetValue<int>());
        Assert.Equal("x-#-#", (await RunAsync(new TextTool(), """{"operation":"replace","text":"x-1-22","pattern":"\\d+","replacement":"#"}"""))!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Text_stops_a_catastrophic_regex_with_its_match_timeout()
    {
        var text = new string('a', 5000) + "!";
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() =>
            RunAsync(new TextTool(), $$"""{"operation":"extract","text":"{{text}}","pattern":"^(a|aa)+$"}"""));
        Assert.Contains("too long", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_refuses_an_invalid_regex()
    {
        await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new TextTool(), """{"operation":"extract","text":"a","pattern":"("}"""));
    }

    [Theory]
    [InlineData("sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData("sha512", "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043")]
    [InlineData("md5", "5d41402abc4b2a76b9719d911017c592")]
    public async Task Hash_gives_the_hex_digest(string algorithm, string expected)
    {
        var result = await RunAsync(new HashTool(), $$"""{"text":"hello","algorithm":"{{algorithm}}"}""");
        Assert.Equal(expected, result!["hash"]!.GetValue<string>());
    }

    [Fact]
    public async Task Uuid_generates_distinct_version_4_uuids()
    {
        var result = await RunAsync(new UuidTool(), """{"count":100}""");
        var uuids = result!["uuids"]!.AsArray().Select(u => Guid.Parse(u!.GetValue<string>())).ToList();
        Assert.Equal(100, uuids.Distinct().Count());
        Assert.All(uuids, u => Assert.Equal(4, u.Version));
        Assert.Single((await RunAsync(new UuidTool(), "{}"))!["uuids"]!.AsArray());
    }

    [Fact]
    public void Every_built_in_schema_rejects_unknown_arguments_and_accepts_its_example()
    {
        IBuiltInTool[] tools = [new CalculatorTool(), new DateTimeTool(TimeProvider.System), new JsonQueryTool(), new TextTool(), new HashTool(), new UuidTool()];
        foreach (var tool in tools)
        {
            var errors = Schema.JsonSchemaValidator.Validate(tool.InputSchema, JsonDocument.Parse("""{"unexpected":1}""").RootElement);
            Assert.Contains(errors, e => e.Keyword == "additionalProperties");
            var example = new JsonObject();
            foreach (var property in tool.InputSchema.GetProperty("properties").EnumerateObject())
            {
                example[property.Name] = JsonNode.Parse(property.Value.GetProperty("example").GetRawText());
            }

            Assert.Empty(Schema.JsonSchemaValidator.Validate(tool.InputSchema, JsonSerializer.SerializeToElement(example)));
        }
    }
}

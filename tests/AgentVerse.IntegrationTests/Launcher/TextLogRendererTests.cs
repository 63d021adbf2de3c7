using AgentVerse.Cli.Launch;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace AgentVerse.IntegrationTests.Launcher;

/// <summary><c>--log-format text</c>: how one line of an app's output, or one runtime event, is shown.</summary>
public sealed class TextLogRendererTests
{
    // The services log in UTC; the launcher shows local time, here two hours ahead.
    private static readonly TimeZoneInfo PlusTwo = TimeZoneInfo.CreateCustomTimeZone("test+02", TimeSpan.FromHours(2), "test+02", "test+02");
    private static readonly StoppedClock Clock = new(new DateTimeOffset(2026, 12, 2, 8, 30, 0, 250, TimeSpan.Zero), PlusTwo);

    // "orchestrator" is the longest app id, so the app column is 12 wide and messages start at column 31.
    private static readonly TextLogRenderer Renderer = new(["gateway", "orchestrator"], Clock, colours: null);
    private static readonly string Indent = new(' ', 31);

    // A line that is not a log event: the time it arrived (the clock's), the app, an empty level column.
    private const string PlainFromGateway = "10:30:00.250 gateway           ";

    private const string CriticalLine = """
        {"Timestamp":"2026-12-02T00:11:55.106Z","EventId":0,"LogLevel":"Critical","Category":"AgentVerse.ServiceDefaults.Secrets.StartupLoaderService","Message":"Cannot start: the signing key is missing","Exception":"System.InvalidOperationException: no key\n   at AgentVerse.ServiceDefaults.Secrets.StartupLoaderService.StartAsync()\n   at Microsoft.Extensions.Hosting.Internal.Host.StartAsync()","State":{"Message":"Cannot start: the signing key is missing","{OriginalFormat}":"Cannot start: {Reason}"},"Scopes":[{"Message":"SpanId:4f1c, TraceId:9a2b","SpanId":"4f1c","TraceId":"9a2b"}]}
        """;

    [Fact]
    public void A_json_log_line_shows_local_time_app_level_category_and_message_and_the_first_line_of_its_exception()
    {
        var shown = Renderer.RenderAppLine("gateway", CriticalLine);

        Assert.Equal(
            "02:11:55.106 gateway      crit StartupLoaderService: Cannot start: the signing key is missing" + Environment.NewLine
            + Indent + "System.InvalidOperationException: no key",
            shown);
    }

    [Fact]
    public void A_json_log_line_without_an_exception_is_one_line()
    {
        var shown = Renderer.RenderAppLine("orchestrator", """{"Timestamp":"2026-12-02T07:00:00.000Z","EventId":14,"LogLevel":"Information","Category":"Microsoft.Hosting.Lifetime","Message":"Now listening on: http://127.0.0.1:8003","State":{}}""");

        Assert.Equal("09:00:00.000 orchestrator info Lifetime: Now listening on: http://127.0.0.1:8003", shown);
    }

    [Theory]
    [InlineData("Trace", "trce")]
    [InlineData("Debug", "dbug")]
    [InlineData("Information", "info")]
    [InlineData("Warning", "warn")]
    [InlineData("Error", "fail")]
    [InlineData("Critical", "crit")]
    public void Levels_are_shown_in_four_letters_like_the_simple_console(string level, string shown)
    {
        var line = Renderer.RenderAppLine("gateway", $$"""{"Timestamp":"2026-12-02T00:00:00.000Z","LogLevel":"{{level}}","Category":"C","Message":"m"}""");

        Assert.Equal($"02:00:00.000 gateway      {shown} C: m", line);
    }

    [Fact]
    public void A_line_that_is_not_json_is_shown_as_it_is_after_the_time_it_arrived_and_the_app()
    {
        var shown = Renderer.RenderAppLine("gateway", "  warn: plain text from some app {with braces}");

        Assert.Equal(PlainFromGateway + "  warn: plain text from some app {with braces}", shown);
    }

    [Fact]
    public void A_multi_line_message_stays_on_one_line()
    {
        var shown = Renderer.RenderAppLine("gateway", """{"Timestamp":"2026-12-02T00:00:00.000Z","LogLevel":"Warning","Category":"C","Message":"first\nsecond\r\nthird"}""");

        Assert.Equal("02:00:00.000 gateway      warn C: first second third", shown);
    }

    [Fact]
    public void A_json_log_line_without_a_timestamp_gets_the_time_it_arrived()
    {
        var shown = Renderer.RenderAppLine("gateway", """{"LogLevel":"Error","Category":"C","Message":"m"}""");

        Assert.Equal("10:30:00.250 gateway      fail C: m", shown);
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00.000Z", "00:00:00.000")]
    [InlineData("9999-12-31T23:59:59.999Z", "23:59:59.999")]
    public void A_timestamp_at_the_edge_of_the_calendar_is_shown_as_written(string timestamp, string shown)
    {
        var line = Renderer.RenderAppLine("gateway", $$"""{"Timestamp":"{{timestamp}}","LogLevel":"Information","Category":"C","Message":"m"}""");

        Assert.Equal($"{shown} gateway      info C: m", line);
    }

    public static TheoryData<string> NotLogEvents() => new()
    {
        """{"Timestamp":"2026-12-02T00:00:00.000Z","LogLevel":"Information","Message":"cut off""",
        """{"LogLevel":"Information","Message":"unterminated}""",
        """["LogLevel","Information","Message","an array"]""",
        """[{"LogLevel":"Information","Message":"an object in an array"}]""",
        """{"LogLevel":"Information"}""",
        """{"Message":"no level"}""",
        """{"LogLevel":"Loud","Message":"an unknown level"}""",
        """{"LogLevel":3,"Message":"a numeric level"}""",
        """{"LogLevel":"Warning, Error","Message":"two levels"}""",
        """{"LogLevel":"Information","Message":{"nested":true}}""",
        "{}",
        "{ not json at all }",
        "{",
        "}",
        "",
        string.Concat(Enumerable.Repeat("""{"a":""", 5_000)) + "1" + new string('}', 5_000),
        "{\"LogLevel\":\"Information\",\"Message\":\"" + new string('x', LogEntry.MaxJsonLength) + "\"}",
        "{\"LogLevel\":\"Information\",\"Message\":\"a raw \u0000 control character\"}",
        "{\"LogLevel\":\"Information\",\"Message\":\"a bad \\uZZZZ escape\"}",
        // JSON.stringify escapes a lone surrogate rather than failing; JsonElement.GetString cannot read it.
        """{"LogLevel":"Information","Message":"an escaped lone \uD800 surrogate"}""",
    };

    [Theory]
    [MemberData(nameof(NotLogEvents))]
    public void Lines_that_are_not_json_log_events_pass_through_unchanged_without_throwing(string line)
    {
        var shown = Renderer.RenderAppLine("gateway", line);

        Assert.Equal(PlainFromGateway + line, shown);
    }

    [Fact]
    public void A_lone_surrogate_in_a_json_log_line_is_shown_as_a_replacement_character()
    {
        var shown = Renderer.RenderAppLine("gateway", "{\"LogLevel\":\"Information\",\"Message\":\"a lone \uD800 surrogate\"}");

        Assert.Equal("10:30:00.250 gateway      info a lone \uFFFD surrogate", shown);
    }

    [Fact]
    public void A_huge_line_that_is_not_json_passes_through_whole()
    {
        var line = new string('y', 4 * 1024 * 1024);

        var shown = Renderer.RenderAppLine("gateway", line);

        Assert.EndsWith(" " + line, shown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_json_log_line_at_the_size_limit_is_still_read()
    {
        const string prefix = "{\"LogLevel\":\"Information\",\"Category\":\"C\",\"Message\":\"";
        var line = prefix + new string('x', LogEntry.MaxJsonLength - prefix.Length - 2) + "\"}";

        var shown = Renderer.RenderAppLine("gateway", line);

        Assert.Equal(LogEntry.MaxJsonLength, line.Length);
        Assert.StartsWith("10:30:00.250 gateway      info C: xxx", shown, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AgentVerse.ServiceDefaults.Secrets.StartupLoaderService", "StartupLoaderService")]
    [InlineData("Microsoft.Hosting.Lifetime", "Lifetime")]
    [InlineData("Program", "Program")]
    [InlineData("Microsoft.Extensions.Http.DefaultHttpClientFactory<AgentVerse.Tools.Client>", "DefaultHttpClientFactory<AgentVerse.Tools.Client>")]
    public void Categories_are_shown_by_their_last_name(string category, string shown)
    {
        Assert.Equal(shown, TextLogRenderer.ShortName(category));
    }

    [Fact]
    public void On_a_terminal_with_colour_only_the_level_is_coloured()
    {
        var colours = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Out = new AnsiConsoleOutput(TextWriter.Null),
        });
        var renderer = new TextLogRenderer(["gateway", "orchestrator"], Clock, colours);

        var shown = renderer.Render("gateway", new LogEntry(null, LogLevel.Warning, "C", "careful", null));

        Assert.Matches("^10:30:00\\.250 gateway      \u001b\\[[0-9;]+mwarn\u001b\\[0m C: careful$", shown);
    }

    [Fact]
    public void A_terminal_without_colour_gets_plain_levels()
    {
        var noColours = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(TextWriter.Null),
        });
        var renderer = new TextLogRenderer(["gateway"], Clock, noColours);

        var shown = renderer.Render("gateway", new LogEntry(null, LogLevel.Critical, "C", "down", null));

        Assert.Equal("10:30:00.250 gateway crit C: down", shown);
    }

    /// <summary>A clock that always says <paramref name="now"/>, in <paramref name="zone"/>.</summary>
    private sealed class StoppedClock(DateTimeOffset now, TimeZoneInfo zone) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => zone;
    }
}

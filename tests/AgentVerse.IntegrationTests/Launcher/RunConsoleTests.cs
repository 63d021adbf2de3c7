using AgentVerse.Cli.Launch;
using Microsoft.Extensions.Logging;

namespace AgentVerse.IntegrationTests.Launcher;

/// <summary>What reaches the launcher's stdout for app lines and runtime events, in each <c>--log-format</c>.</summary>
public sealed class RunConsoleTests : IDisposable
{
    private const string JsonLine = """{"Timestamp":"2026-12-02T00:11:55.106Z","EventId":0,"LogLevel":"Warning","Category":"Microsoft.Hosting.Lifetime","Message":"slow start"}""";
    private static readonly TimeProvider Utc = new UtcClock(new DateTimeOffset(2026, 12, 2, 8, 30, 0, TimeSpan.Zero));
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();

    public void Dispose()
    {
        _out.Dispose();
        _error.Dispose();
    }

    private string[] Lines => _out.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void In_json_format_app_lines_are_written_as_they_are_with_the_dapr_prefix()
    {
        var console = new RunConsole(_out, _error, interactive: false);

        console.AppLine("orders", JsonLine, isError: false);
        console.AppLine("orders", "plain", isError: true);

        Assert.Equal(["== APP - orders == " + JsonLine, "== APP - orders == plain"], Lines);
    }

    [Fact]
    public void In_text_format_app_lines_are_rendered()
    {
        var console = new RunConsole(_out, _error, interactive: false, new TextLogRenderer(["orders"], Utc, colours: null));

        console.AppLine("orders", JsonLine, isError: false);
        console.AppLine("orders", "plain", isError: true);

        Assert.Equal(["00:11:55.106 orders  warn Lifetime: slow start", "08:30:00.000 orders       plain"], Lines);
    }

    [Fact]
    public void In_text_format_a_sidecars_events_show_under_its_app_and_shared_runtime_events_under_runtime()
    {
        var console = new RunConsole(_out, _error, interactive: false, new TextLogRenderer(["orders", "billing-api"], Utc, colours: null));
        using var provider = new RunConsoleLoggerProvider(console, ["orders", "billing-api"]);

        provider.CreateLogger("AgentVerse.Runtime.Sidecar.orders").LogWarning("App {AppId} answered 500", "orders");
        provider.CreateLogger("AgentVerse.Runtime.Workflow.billing-api").LogError(new InvalidOperationException("store gone"), "Cannot resume workflow {Id}", "w1");
        provider.CreateLogger("AgentVerse.Runtime.Components.ComponentRegistry").LogInformation("Loaded {Count} components", 2);
        provider.CreateLogger("AgentVerse.Runtime.Sidecar.someone-else").LogWarning("not one of this run's apps");

        Assert.Equal(
            [
                "08:30:00.000 orders      warn Sidecar: App orders answered 500",
                "08:30:00.000 billing-api fail Workflow: Cannot resume workflow w1",
                "                              System.InvalidOperationException: store gone",
                "08:30:00.000 runtime     info ComponentRegistry: Loaded 2 components",
                "08:30:00.000 runtime     warn someone-else: not one of this run's apps",
            ],
            Lines);
    }

    [Fact]
    public void Lines_held_while_the_status_table_is_drawn_are_written_after_it_in_order()
    {
        var console = new RunConsole(_out, _error, interactive: true, new TextLogRenderer(["orders"], Utc, colours: null));
        using var provider = new RunConsoleLoggerProvider(console, ["orders"]);

        console.Hold();
        console.AppLine("orders", JsonLine, isError: false);
        provider.CreateLogger("AgentVerse.Runtime.Sidecar.orders").LogWarning("from the sidecar");
        var whileHeld = _out.ToString();
        console.Release();

        Assert.Equal("", whileHeld);
        Assert.Equal(["00:11:55.106 orders  warn Lifetime: slow start", "08:30:00.000 orders  warn Sidecar: from the sidecar"], Lines);
    }

    private sealed class UtcClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}

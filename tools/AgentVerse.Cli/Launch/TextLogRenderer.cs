using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Spectre.Console.Advanced;

namespace AgentVerse.Cli.Launch;

/// <summary>
/// The <c>--log-format text</c> layout, one line per event: <c>HH:mm:ss.fff app lvl Category: message</c>, with the
/// app ids padded so the columns line up, the level as the simple console writes it (<c>info</c>, <c>warn</c> ...) and
/// coloured when the terminal shows colour, and the first line of an exception indented below.
/// </summary>
internal sealed class TextLogRenderer
{
    /// <summary>The app column of runtime events that belong to no single sidecar (component loading, Kestrel).</summary>
    public const string RuntimeAppId = "runtime";

    private const string TimeFormat = "HH:mm:ss.fff";

    // Indexed by LogLevel, Trace (0) to Critical (5).
    private static readonly (string Label, Style Style)[] Levels =
    [
        ("trce", new Style(Color.Grey)),
        ("dbug", new Style(Color.Grey)),
        ("info", new Style(Color.Green)),
        ("warn", new Style(Color.Yellow)),
        ("fail", new Style(Color.Red)),
        ("crit", new Style(Color.White, Color.Red, Decoration.Bold)),
    ];

    private readonly TimeProvider _time;
    private readonly int _appWidth;
    private readonly string[] _levelLabels;
    private readonly string _noLevel;
    private readonly string _indent;

    /// <param name="appIds">Every app of the run, to size the app column.</param>
    /// <param name="time">The clock for lines without a timestamp of their own; its time zone for all of them.</param>
    /// <param name="colours">The terminal, to colour levels if it shows colour; null for plain text.</param>
    public TextLogRenderer(IEnumerable<string> appIds, TimeProvider time, IAnsiConsole? colours)
    {
        _time = time;
        _appWidth = appIds.Append(RuntimeAppId).Max(id => id.Length);
        // ToAnsi writes decorations (bold) even for a console without ANSI or colour (NO_COLOR): ask first.
        var coloured = colours is { Profile.Capabilities: { Ansi: true, ColorSystem: not ColorSystem.NoColors } };
        _levelLabels = [.. Levels.Select(l => coloured ? colours!.ToAnsi(new Text(l.Label, l.Style)) : l.Label)];
        _noLevel = new string(' ', Levels[0].Label.Length);
        _indent = new string(' ', TimeFormat.Length + 1 + _appWidth + 1 + _noLevel.Length + 1);
    }

    /// <summary>A line of an app's output: a JSON console event in the text layout, any other line as it is, after time and app.</summary>
    public string RenderAppLine(string appId, string line) =>
        LogEntry.TryParseJson(line, out var entry)
            ? Render(appId, entry)
            : string.Concat(Time(null), " ", appId.PadRight(_appWidth), " ", _noLevel, " ", line);

    /// <summary>One event; two lines when it carries an exception.</summary>
    public string Render(string appId, LogEntry entry)
    {
        var text = new StringBuilder(TimeFormat.Length + _appWidth + entry.Category.Length + entry.Message.Length + 16);
        text.Append(Time(entry.Timestamp)).Append(' ')
            .Append(appId.PadRight(_appWidth)).Append(' ')
            .Append(entry.Level is >= LogLevel.Trace and <= LogLevel.Critical ? _levelLabels[(int)entry.Level] : _noLevel).Append(' ');
        if (entry.Category.Length > 0)
        {
            text.Append(ShortName(entry.Category)).Append(": ");
        }

        // One line per event, as the simple console's SingleLine mode does.
        text.Append(entry.Message.ReplaceLineEndings(" "));
        if (entry.Exception is { } exception && FirstLine(exception) is { Length: > 0 } first)
        {
            text.AppendLine().Append(_indent).Append(first);
        }

        return text.ToString();
    }

    private string Time(DateTimeOffset? timestamp)
    {
        var time = timestamp switch
        {
            null => _time.GetLocalNow(),
            // ConvertTime throws past DateTimeOffset's limits; a stamp within a day of them is shown as written.
            { } t when t.UtcDateTime < DateTime.MinValue.AddDays(1) || t.UtcDateTime > DateTime.MaxValue.AddDays(-1) => t,
            { } t => TimeZoneInfo.ConvertTime(t, _time.LocalTimeZone),
        };
        return time.ToString(TimeFormat, CultureInfo.InvariantCulture);
    }

    /// <summary><c>AgentVerse.ServiceDefaults.Secrets.StartupLoaderService</c> → <c>StartupLoaderService</c>; generic arguments stay whole.</summary>
    internal static string ShortName(string category)
    {
        var generic = category.AsSpan().IndexOfAny('<', '[');
        var dot = (generic < 0 ? category.AsSpan() : category.AsSpan(0, generic)).TrimEnd('.').LastIndexOf('.');
        return dot < 0 ? category : category[(dot + 1)..];
    }

    private static ReadOnlySpan<char> FirstLine(string text)
    {
        var span = text.AsSpan().TrimStart();
        var end = span.IndexOfAny('\r', '\n');
        return (end < 0 ? span : span[..end]).TrimEnd();
    }
}

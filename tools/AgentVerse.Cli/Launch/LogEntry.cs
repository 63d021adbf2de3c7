using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Cli.Launch;

/// <summary>One log event: read from an app's JSON console line, or logged by the local runtime.</summary>
/// <param name="Timestamp">When it was logged; null for "now" (the runtime's events, printed as they happen).</param>
/// <param name="Level">Its level.</param>
/// <param name="Category">The logger's category, e.g. <c>Microsoft.Hosting.Lifetime</c>; may be empty.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception as logged (type, message, stack), or null.</param>
internal readonly record struct LogEntry(DateTimeOffset? Timestamp, LogLevel Level, string Category, string Message, string? Exception)
{
    /// <summary>
    /// Longer lines are shown as they are, not parsed: this bounds the work per line. A JSON console event
    /// with a long stack trace is a few kB; 64k characters leave room for much more.
    /// </summary>
    public const int MaxJsonLength = 64 * 1024;

    /// <summary>
    /// Reads a line written by ASP.NET Core's JsonConsole formatter:
    /// <c>{"Timestamp":"...","EventId":0,"LogLevel":"Warning","Category":"...","Message":"...","Exception":"...",...}</c>.
    /// Any other line (text, other JSON, malformed JSON, an overlong line) returns false; it never throws.
    /// </summary>
    public static bool TryParseJson(string line, out LogEntry entry)
    {
        entry = default;
        var text = line.AsSpan().Trim();
        // Most plain lines stop here, without a parse.
        if (text.Length is < 2 or > MaxJsonLength || text[0] != '{' || text[^1] != '}')
        {
            return false;
        }

        // Encoding.UTF8 replaces invalid UTF-16 (a lone surrogate) where JsonDocument.Parse(string) would throw.
        var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            using var document = JsonDocument.Parse(utf8.AsMemory(0, Encoding.UTF8.GetBytes(text, utf8)));
            var root = document.RootElement;
            if (StringProperty(root, "LogLevel") is not { } levelName || LevelNamed(levelName) is not { } level || StringProperty(root, "Message") is not { } message)
            {
                return false;
            }

            entry = new LogEntry(
                DateTimeOffset.TryParse(StringProperty(root, "Timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var time) ? time : null,
                level,
                StringProperty(root, "Category") ?? "",
                message,
                StringProperty(root, "Exception") is { Length: > 0 } exception ? exception : null);
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: GetString on a string holding an escaped lone surrogate (JSON.stringify writes those).
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    private static string? StringProperty(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    // The names JsonConsole writes (LogLevel's member names); Enum.TryParse would also take "3" or "Warning, Error".
    private static LogLevel? LevelNamed(string name) => name switch
    {
        "Trace" => LogLevel.Trace,
        "Debug" => LogLevel.Debug,
        "Information" => LogLevel.Information,
        "Warning" => LogLevel.Warning,
        "Error" => LogLevel.Error,
        "Critical" => LogLevel.Critical,
        _ => null,
    };
}

using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;

namespace AgentVerse.Dapr.Actors;

/// <summary>Durations as Dapr's actor APIs write them: Go durations (<c>1h2m3s4ms</c>) and ISO 8601 (<c>PT10S</c>, <c>R5/PT1M</c>).</summary>
internal static partial class ActorDurations
{
    [GeneratedRegex(@"(?<n>\d+(?:\.\d+)?)(?<u>ns|us|µs|ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex GoSegment();

    /// <summary>The format the Dapr .NET SDK sends: <c>{h}h{m}m{s}s{ms}ms</c>.</summary>
    public static string Format(TimeSpan span) =>
        string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes}m{span.Seconds}s{span.Milliseconds}ms");

    /// <summary>Best effort: unparseable or empty text (a one-shot period) is <see cref="Timeout.InfiniteTimeSpan"/> when <paramref name="emptyIsInfinite"/>.</summary>
    public static TimeSpan Parse(string? text, bool emptyIsInfinite)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return emptyIsInfinite ? Timeout.InfiniteTimeSpan : TimeSpan.Zero;
        }
        var body = text.Trim();
        if (body.StartsWith('R') && body.IndexOf('/', StringComparison.Ordinal) is var slash and > 0)
        {
            body = body[(slash + 1)..];
        }
        if (body.StartsWith('P'))
        {
            try
            {
                return XmlConvert.ToTimeSpan(body);
            }
            catch (FormatException)
            {
                return emptyIsInfinite ? Timeout.InfiniteTimeSpan : TimeSpan.Zero;
            }
        }
        var total = TimeSpan.Zero;
        foreach (Match match in GoSegment().Matches(body))
        {
            var n = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            total += match.Groups["u"].Value switch
            {
                "h" => TimeSpan.FromHours(n),
                "m" => TimeSpan.FromMinutes(n),
                "s" => TimeSpan.FromSeconds(n),
                "ms" => TimeSpan.FromMilliseconds(n),
                "us" or "µs" => TimeSpan.FromMicroseconds(n),
                _ => TimeSpan.FromTicks((long)(n / 100)),
            };
        }
        return total;
    }
}

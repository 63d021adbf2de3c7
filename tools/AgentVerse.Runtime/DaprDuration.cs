using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentVerse.Runtime;

/// <summary>Go's <c>time.ParseDuration</c> format (<c>300ms</c>, <c>1h2m3.5s</c>), which Dapr uses in YAML and APIs.</summary>
public static partial class DaprDuration
{
    [GeneratedRegex(@"^(?<n>\d+(\.\d+)?|\.\d+)(?<u>ns|us|µs|ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex Segment();

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var s = text.Trim();
        var negative = s.StartsWith('-');
        s = s.TrimStart('-', '+');
        if (s == "0")
        {
            return true;
        }
        double ticks = 0;
        while (s.Length > 0)
        {
            var match = Segment().Match(s);
            if (!match.Success)
            {
                return false;
            }
            var value = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            ticks += match.Groups["u"].Value switch
            {
                "ns" => value / 100,
                "us" or "µs" => value * 10,
                "ms" => value * TimeSpan.TicksPerMillisecond,
                "s" => value * TimeSpan.TicksPerSecond,
                "m" => value * TimeSpan.TicksPerMinute,
                _ => value * TimeSpan.TicksPerHour,
            };
            s = s[match.Length..];
        }
        duration = TimeSpan.FromTicks((long)(negative ? -ticks : ticks));
        return true;
    }
}

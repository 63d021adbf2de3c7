using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentVerse.Runtime.Components;

/// <summary>Go's <c>time.ParseDuration</c> syntax (<c>300ms</c>, <c>1m30s</c>, <c>-1.5h</c>), which Dapr resources use for durations.</summary>
internal static partial class GoDuration
{
    [GeneratedRegex(@"^(?<sign>[-+]?)(?:(?<num>[0-9]*\.?[0-9]+)(?<unit>ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$")]
    private static partial Regex Syntax();

    [GeneratedRegex(@"(?<num>[0-9]*\.?[0-9]+)(?<unit>ns|us|µs|μs|ms|s|m|h)")]
    private static partial Regex Part();

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        text = text.Trim();
        if (!Syntax().IsMatch(text))
        {
            return false;
        }

        double ticks = 0;
        foreach (Match m in Part().Matches(text))
        {
            var value = double.Parse(m.Groups["num"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            ticks += value * m.Groups["unit"].Value switch
            {
                "ns" => 0.01,
                "us" or "µs" or "μs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                _ => TimeSpan.TicksPerHour,
            };
        }
        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }
        duration = TimeSpan.FromTicks((long)(text.StartsWith('-') ? -ticks : ticks));
        return true;
    }
}

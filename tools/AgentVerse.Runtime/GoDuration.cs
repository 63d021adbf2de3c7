using System.Globalization;

namespace AgentVerse.Runtime;

/// <summary>
/// Durations as Dapr reads them. Resource fields (<c>initTimeout</c>, resiliency policies) use Go's
/// <c>time.ParseDuration</c> (<c>300ms</c>, <c>1h30m</c>, <c>-1.5s</c>, and a bare <c>0</c>); component metadata
/// is decoded by dapr/kit, which also takes a bare integer as seconds.
/// </summary>
internal static class GoDuration
{
    /// <summary>Component metadata: Go syntax, or a bare integer number of seconds.</summary>
    public static bool TryParseMetadata(string? text, out TimeSpan duration)
    {
        if (long.TryParse(text?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
            && seconds is <= 9_000_000_000 and >= -9_000_000_000)
        {
            duration = TimeSpan.FromSeconds(seconds);
            return true;
        }
        return TryParse(text, out duration);
    }

    /// <summary>Go's <c>time.ParseDuration</c>.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();

        var negative = false;
        var i = 0;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            i = 1;
        }
        if (i == s.Length) return false;
        if (s[i..] == "0")
        {
            return true;
        }

        double totalTicks = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (start == i) return false;
            if (!double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                return false;

            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.') i++;
            double ticksPerUnit = s[unitStart..i] switch
            {
                "ns" => 0.01,
                "us" or "µs" or "μs" => 10,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => double.NaN,
            };
            if (double.IsNaN(ticksPerUnit)) return false;
            totalTicks += number * ticksPerUnit;
        }

        if (totalTicks > TimeSpan.MaxValue.Ticks) return false;
        duration = TimeSpan.FromTicks((long)(negative ? -totalTicks : totalTicks));
        return true;
    }
}

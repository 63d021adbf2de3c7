using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentVerse.Runtime.Actors;

/// <summary>
/// A reminder or timer period: an ISO 8601 duration (calendar parts kept apart so that
/// <c>P1M</c> means one calendar month, as daprd's date arithmetic does) or a Go duration,
/// with an optional repetition count from the <c>Rn/</c> prefix.
/// </summary>
internal sealed record ActorPeriod(int Years, int Months, int Days, TimeSpan Time, int? Repetitions, string Text)
{
    public bool IsZero => Years == 0 && Months == 0 && Days == 0 && Time <= TimeSpan.Zero;

    public DateTimeOffset Next(DateTimeOffset from) => from.AddYears(Years).AddMonths(Months).AddDays(Days).Add(Time);
}

/// <summary>
/// Parses the <c>dueTime</c>, <c>period</c> and <c>ttl</c> fields of reminders and timers
/// (daprd pkg/actors/internal/timers + kit/time): RFC 3339 instants, Go durations, ISO 8601 durations and <c>Rn/</c> repetitions.
/// </summary>
internal static partial class ActorTime
{
    [GeneratedRegex(@"^P(?:(?<y>\d+)Y)?(?:(?<mo>\d+)M)?(?:(?<w>\d+)W)?(?:(?<d>\d+)D)?(?:T(?:(?<h>\d+)H)?(?:(?<mi>\d+)M)?(?:(?<s>\d+(?:\.\d+)?)S)?)?$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Iso8601Duration();

    [GeneratedRegex(@"^R(?<n>\d+)/(?<rest>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex Repetition();

    /// <summary>When the first firing is due: empty = now; an instant; or a duration from <paramref name="now"/>.</summary>
    public static bool TryParseDueTime(string? text, DateTimeOffset now, out DateTimeOffset due)
    {
        due = now;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        if (TryParseInstant(text, out due))
        {
            return true;
        }
        if (TryParseDuration(text, out var years, out var months, out var days, out var time))
        {
            due = now.AddYears(years).AddMonths(months).AddDays(days).Add(time);
            return true;
        }
        due = now;
        return false;
    }

    /// <summary>Empty or zero = one shot (null).</summary>
    public static bool TryParsePeriod(string? text, out ActorPeriod? period)
    {
        period = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        int? repetitions = null;
        var body = text.Trim();
        var repetition = Repetition().Match(body);
        if (repetition.Success)
        {
            if (!int.TryParse(repetition.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                return false;
            }
            repetitions = n;
            body = repetition.Groups["rest"].Value;
        }
        if (!TryParseDuration(body, out var years, out var months, out var days, out var time) || time < TimeSpan.Zero)
        {
            return false;
        }
        period = new ActorPeriod(years, months, days, time, repetitions, text.Trim());
        return true;
    }

    /// <summary>Expiry instant: an instant, or a duration from <paramref name="now"/>; empty = never.</summary>
    public static bool TryParseTtl(string? text, DateTimeOffset now, out DateTimeOffset? expiresAt)
    {
        expiresAt = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        if (TryParseInstant(text, out var instant))
        {
            expiresAt = instant;
            return true;
        }
        if (TryParseDuration(text, out var years, out var months, out var days, out var time))
        {
            expiresAt = now.AddYears(years).AddMonths(months).AddDays(days).Add(time);
            return true;
        }
        return false;
    }

    /// <summary>Go-duration text for a span, the format the Dapr SDKs send (<c>1h2m3s4ms</c>).</summary>
    public static string FormatGoDuration(TimeSpan span) =>
        string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes}m{span.Seconds}s{span.Milliseconds}ms");

    private static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        // Durations never contain a date separator; instants (RFC 3339) always do.
        return text.Length >= 10 && text[4] == '-'
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant);
    }

    private static bool TryParseDuration(string text, out int years, out int months, out int days, out TimeSpan time)
    {
        years = months = days = 0;
        time = TimeSpan.Zero;
        var trimmed = text.Trim();
        if (trimmed.StartsWith('P') || trimmed.StartsWith('p'))
        {
            var match = Iso8601Duration().Match(trimmed);
            if (!match.Success || trimmed is "P" or "PT")
            {
                return false;
            }
            years = Int(match, "y");
            months = Int(match, "mo");
            days = Int(match, "d") + 7 * Int(match, "w");
            var seconds = match.Groups["s"].Success ? double.Parse(match.Groups["s"].Value, CultureInfo.InvariantCulture) : 0;
            time = TimeSpan.FromHours(Int(match, "h")) + TimeSpan.FromMinutes(Int(match, "mi")) + TimeSpan.FromSeconds(seconds);
            return true;
        }
        return GoDuration.TryParse(trimmed, out time);
    }

    private static int Int(Match match, string group) =>
        match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
}

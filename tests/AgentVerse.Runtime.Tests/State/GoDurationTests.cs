using AgentVerse.Runtime.State;

namespace AgentVerse.Runtime.Tests.State;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("20s", 20_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m0.5s", 120_500)]
    [InlineData("-1s", -1_000)]
    [InlineData("0", 0)]
    [InlineData("3600", 3_600_000)] // bare integer = seconds, as dapr/kit decodes it
    [InlineData("1000us", 1)]
    public void Parses_go_durations(string text, long milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("1.5")]
    [InlineData("1d")]
    [InlineData("10 s")]
    [InlineData("abc")]
    public void Rejects_what_go_rejects(string text)
    {
        Assert.False(GoDuration.TryParse(text, out _));
    }
}

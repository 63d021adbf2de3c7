using AgentVerse.Runtime.Components;

namespace AgentVerse.Runtime.Tests.Components;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("5s", 5_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("300ms", 300)]
    [InlineData("0", 0)]
    [InlineData("-2s", -2_000)]
    public void Parses_go_durations(string text, long milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("soon")]
    [InlineData("5 s")]
    [InlineData("PT5S")]
    [InlineData("")]
    public void Rejects_anything_else(string text) => Assert.False(GoDuration.TryParse(text, out _));
}

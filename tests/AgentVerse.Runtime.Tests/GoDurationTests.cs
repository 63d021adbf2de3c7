namespace AgentVerse.Runtime.Tests;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("20s", 20_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("2m0.5s", 120_500)]
    [InlineData("-1s", -1_000)]
    [InlineData("0", 0)]
    [InlineData("1000us", 1)]
    public void Parses_go_durations(string text, long milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
        Assert.True(GoDuration.TryParseMetadata(text, out var metadataValue));
        Assert.Equal(value, metadataValue);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("1.5")]
    [InlineData("1d")]
    [InlineData("10 s")]
    [InlineData("PT5S")]
    [InlineData("abc")]
    public void Rejects_what_go_rejects(string text)
    {
        Assert.False(GoDuration.TryParse(text, out _));
        Assert.False(GoDuration.TryParseMetadata(text, out _));
    }

    [Fact]
    public void A_bare_integer_is_seconds_in_metadata_but_not_in_go_syntax()
    {
        Assert.False(GoDuration.TryParse("3600", out _));
        Assert.True(GoDuration.TryParseMetadata("3600", out var value));
        Assert.Equal(TimeSpan.FromHours(1), value);
    }
}

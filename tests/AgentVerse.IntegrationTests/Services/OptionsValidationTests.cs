using AgentVerse.Testing;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>A wrong nested setting stops a service at start-up with the setting named, not at the first request that uses it.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Tools", "Tools__Http__TimeoutMs", "0", "Http.TimeoutMs")]
    [InlineData("Tools", "Tools__Http__MaxRedirects", "99", "Http.MaxRedirects")]
    [InlineData("Gateway", "Gateway__Routing__Routes__agents__TimeoutSeconds", "0", "Gateway:Routing:Routes:agents")]
    [InlineData("Gateway", "Gateway__Routing__Routes__reports__TimeoutSeconds", "5", "Gateway:Routing:Routes:reports")]
    [InlineData("Gateway", "Gateway__RateLimits__PerUserBurst", "0", "PerUserBurst")]
    public async Task A_service_with_a_wrong_nested_setting_does_not_start_and_names_it(string service, string setting, string value, string named)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var process = await ServiceProcess.StartAsync(service, new Dictionary<string, string> { [setting] = value });
        });

        Assert.True(error.Message.Contains("exited with code", StringComparison.Ordinal)
            && error.Message.Contains(named, StringComparison.Ordinal)
            && error.Message.Contains("OptionsValidationException", StringComparison.Ordinal), error.Message);
    }
}

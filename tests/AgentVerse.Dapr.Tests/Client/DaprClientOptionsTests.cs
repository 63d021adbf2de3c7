namespace AgentVerse.Dapr.Tests.Client;

[CollectionDefinition(nameof(EnvironmentVariables), DisableParallelization = true)]
public sealed class EnvironmentVariables;

/// <summary>Reads process environment variables, so runs alone.</summary>
[Collection(nameof(EnvironmentVariables))]
public sealed class DaprClientOptionsTests : IDisposable
{
    private readonly Dictionary<string, string?> saved = new[] { "DAPR_HTTP_ENDPOINT", "DAPR_HTTP_PORT", "DAPR_API_TOKEN" }
        .ToDictionary(name => name, Environment.GetEnvironmentVariable);

    public void Dispose()
    {
        foreach (var (name, value) in saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    [Fact]
    public void Defaults_are_loopback_port_3500_and_no_token()
    {
        Set(endpoint: null, port: null, token: null);

        var options = new DaprClientOptions();

        Assert.Equal(new Uri("http://127.0.0.1:3500"), options.HttpEndpoint);
        Assert.Null(options.ApiToken);
    }

    [Fact]
    public void Dapr_http_port_and_api_token_come_from_the_environment()
    {
        Set(endpoint: null, port: "3601", token: "tok");

        var options = new DaprClientOptions();

        Assert.Equal(new Uri("http://127.0.0.1:3601"), options.HttpEndpoint);
        Assert.Equal("tok", options.ApiToken);
    }

    [Fact]
    public void Dapr_http_endpoint_wins_over_the_port()
    {
        Set(endpoint: "http://sidecar.local:4000", port: "3601", token: null);

        Assert.Equal(new Uri("http://sidecar.local:4000"), new DaprClientOptions().HttpEndpoint);
    }

    private static void Set(string? endpoint, string? port, string? token)
    {
        Environment.SetEnvironmentVariable("DAPR_HTTP_ENDPOINT", endpoint);
        Environment.SetEnvironmentVariable("DAPR_HTTP_PORT", port);
        Environment.SetEnvironmentVariable("DAPR_API_TOKEN", token);
    }
}

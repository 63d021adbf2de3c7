using AgentVerse.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>
/// The decisions AddServiceDefaults takes from configuration, checked in-process on a builder: where the
/// service listens, where it finds the sidecar, and which settings stop it from starting.
/// </summary>
public sealed class ServiceDefaultsBindingTests : IDisposable
{
    // A content root with an appsettings.json like the services' own.
    private readonly DirectoryInfo _contentRoot = Directory.CreateTempSubdirectory("agentverse-defaults-");

    public ServiceDefaultsBindingTests() => File.WriteAllText(
        Path.Combine(_contentRoot.FullName, "appsettings.json"),
        """{ "Urls": "http://localhost:8000", "AgentVerse": { "AppId": "gateway" } }""");

    public void Dispose() => _contentRoot.Delete(recursive: true);

    [Fact]
    public void APP_PORT_replaces_the_appsettings_urls_with_loopback()
    {
        var builder = Builder("--APP_PORT=5123").AddServiceDefaults();

        Assert.Equal("http://127.0.0.1:5123", builder.Configuration["urls"]);
    }

    [Fact]
    public void Explicit_urls_win_over_APP_PORT()
    {
        var builder = Builder("--urls=http://0.0.0.0:9000", "--APP_PORT=5123").AddServiceDefaults();

        Assert.Equal("http://0.0.0.0:9000", builder.Configuration["urls"]);
    }

    [Fact]
    public void ASPNETCORE_URLS_wins_over_APP_PORT_and_the_appsettings_urls()
    {
        var builder = Builder("--APP_PORT=5123");
        // Where the web application builder puts the ASPNETCORE_ environment variables: before appsettings.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = [new("urls", "http://0.0.0.0:8080")] });

        builder.AddServiceDefaults();

        Assert.Equal("http://0.0.0.0:8080", builder.Configuration["urls"]);
    }

    [Fact]
    public void Without_APP_PORT_the_appsettings_urls_apply()
    {
        var builder = Builder().AddServiceDefaults();

        Assert.Equal("http://localhost:8000", builder.Configuration["urls"]);
    }

    [Fact]
    public void APP_PORT_that_is_not_a_port_fails_fast()
    {
        var builder = Builder("--APP_PORT=eighty");

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddServiceDefaults());
        Assert.Contains("APP_PORT", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APP_ID_wins_over_the_configured_app_id()
    {
        using var app = Builder("--APP_ID=agents").AddServiceDefaults().Build();

        Assert.Equal("agents", app.Services.GetRequiredService<IOptions<ServiceDefaultsOptions>>().Value.AppId);
    }

    [Theory]
    [InlineData("--AgentVerse:MaxRequestBodyBytes=0")]
    [InlineData("--AgentVerse:AppId=Not_A_Dapr_Id")]
    public async Task Invalid_settings_stop_the_service_at_startup(string setting)
    {
        // Kestrel reads the body limit while the app is built, so Build may be what throws, or else StartAsync.
        await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = Builder("--urls=http://127.0.0.1:0", setting).AddServiceDefaults().Build();
            await app.StartAsync();
        });
    }

    private WebApplicationBuilder Builder(params string[] args) => WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = args,
        ContentRootPath = _contentRoot.FullName,
        EnvironmentName = Environments.Production,
    });
}

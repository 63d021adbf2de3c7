using System.Globalization;
using AgentVerse.Testing;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>
/// The eight services started once for the test class, pointed at sidecar ports where nothing answers until a test
/// calls <see cref="StartSidecarsAsync"/>, with a small request body limit.
/// </summary>
public sealed class ServicesFixture : IAsyncLifetime
{
    /// <summary>A small body limit, so a test can exceed it with a small request.</summary>
    public const int MaxRequestBodyBytes = 1024;

    private PlatformProcesses _platform = null!;

    public IReadOnlyList<ServiceProcess> Services => _platform.Services;

    public async Task InitializeAsync() =>
        _platform = await PlatformProcesses.StartAsync(new Dictionary<string, string>
        {
            ["AgentVerse__MaxRequestBodyBytes"] = MaxRequestBodyBytes.ToString(CultureInfo.InvariantCulture),
        }, withSidecars: false);

    /// <summary>Starts every service's sidecar on the ports it was given.</summary>
    public Task StartSidecarsAsync() => _platform.StartSidecarsAsync();

    public async Task DisposeAsync() => await _platform.DisposeAsync();

    /// <summary>Runs <paramref name="check"/> against every service at once.</summary>
    public Task ForEachService(Func<ServiceProcess, Task> check) => _platform.ForEachService(check);
}

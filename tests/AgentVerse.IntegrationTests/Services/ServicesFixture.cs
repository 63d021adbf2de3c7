using AgentVerse.Testing;

namespace AgentVerse.IntegrationTests.Services;

/// <summary>
/// The eight services started once for the test class, in parallel, each on its own loopback
/// <c>APP_PORT</c> and all pointed at one <see cref="FakeSidecar"/> that is not yet answering.
/// </summary>
public sealed class ServicesFixture : IAsyncLifetime
{
    /// <summary>A small body limit, so a test can exceed it with a small request.</summary>
    public const int MaxRequestBodyBytes = 1024;

    public static readonly string[] Names = ["Gateway", "Agents", "Orchestrator", "Rag", "Tools", "SqlTool", "WorkflowEngine", "Observability"];

    public FakeSidecar Sidecar { get; } = new();

    public IReadOnlyList<ServiceProcess> Services { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var environment = new Dictionary<string, string>
        {
            ["DAPR_HTTP_PORT"] = Sidecar.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AgentVerse__MaxRequestBodyBytes"] = MaxRequestBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        var starting = Names.Select(name => ServiceProcess.StartAsync(name, environment)).ToList();
        try
        {
            Services = await Task.WhenAll(starting);
        }
        catch
        {
            // Stop the ones that did start before reporting the one that did not.
            foreach (var task in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await task.Result.DisposeAsync();
            }

            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(Services.Select(service => service.DisposeAsync().AsTask()));
        await Sidecar.DisposeAsync();
    }

    /// <summary>Runs <paramref name="check"/> against every service at once.</summary>
    public Task ForEachService(Func<ServiceProcess, Task> check) => Task.WhenAll(Services.Select(check));
}

namespace AgentVerse.Dapr.Tests.Infrastructure;

/// <summary>
/// Wire-format tests of <see cref="DaprClient"/>: each test gets its own <see cref="RecordingSidecar"/> and a client
/// aimed at it (API token <c>test-token</c>).
/// </summary>
public abstract class RecordingSidecarTests : IAsyncLifetime
{
    protected RecordingSidecar Sidecar { get; private set; } = null!;

    protected DaprClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Sidecar = await RecordingSidecar.StartAsync();
        Client = Sidecar.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Sidecar.DisposeAsync();
    }
}

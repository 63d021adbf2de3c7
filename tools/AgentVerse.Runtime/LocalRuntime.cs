using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime;

/// <summary>
/// A run of sidecars in one process: loads the components once, then serves one Dapr HTTP (and gRPC)
/// endpoint per app. Dispose stops every sidecar.
/// </summary>
public sealed class LocalRuntime : IAsyncDisposable
{
    // STUB: implemented in Sidecar/ by the runtime owner.
    public IReadOnlyList<ISidecar> Sidecars { get; private init; } = [];

    public ISidecar this[string appId] => Sidecars.Single(s => s.AppId == appId);

    /// <summary>Loads components and starts all sidecars. Throws <see cref="Components.ComponentLoadException"/> for bad resources.</summary>
    public static Task<LocalRuntime> StartAsync(IReadOnlyList<SidecarOptions> sidecars, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
        => Task.FromResult(new LocalRuntime { Sidecars = sidecars.Select(o => (ISidecar)new FakeSidecar(o)).ToList() });
    private sealed class FakeSidecar(SidecarOptions o) : ISidecar
    {
        public string AppId => o.AppId;
        public int HttpPort => o.HttpPort;
        public int GrpcPort => o.GrpcPort;
        public Task AppReady { get; } = Wait(o.AppPort);
        private static async Task Wait(int? port)
        {
            if (port is null) return;
            while (true)
            {
                try { using var c = new System.Net.Sockets.TcpClient(); await c.ConnectAsync("127.0.0.1", port.Value); return; }
                catch (System.Net.Sockets.SocketException) { await Task.Delay(200); }
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A running sidecar.</summary>
public interface ISidecar
{
    string AppId { get; }

    /// <summary>The bound Dapr HTTP API port (resolved when 0 was asked).</summary>
    int HttpPort { get; }

    int GrpcPort { get; }

    /// <summary>Completes once the app's port accepts connections and its subscriptions are loaded (immediately when there is no app port).</summary>
    Task AppReady { get; }
}

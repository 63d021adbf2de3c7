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
        => throw new NotImplementedException();

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

using AgentVerse.Runtime.Components;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime;

/// <summary>
/// A run of sidecars in one process: loads the components once, then serves one Dapr HTTP (and gRPC)
/// endpoint per app. Apps sharing a resources path share component instances, so the in-memory
/// broker connects publishers and subscribers of different apps (one daprd per app cannot do that).
/// Dispose stops every sidecar, then the components.
/// </summary>
public sealed class LocalRuntime : IAsyncDisposable
{
    private readonly Dictionary<string, Sidecar.Sidecar> _byAppId = new(StringComparer.Ordinal);
    private readonly List<Sidecar.Sidecar> _sidecars = [];
    private ComponentRegistry? _registry;

    private LocalRuntime()
    {
    }

    public IReadOnlyList<ISidecar> Sidecars => _sidecars;

    public ISidecar this[string appId] => _byAppId[appId];

    /// <summary>Loads components and starts all sidecars. Throws <see cref="ComponentLoadException"/> for bad resources.</summary>
    public static async Task<LocalRuntime> StartAsync(IReadOnlyList<SidecarOptions> sidecars, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sidecars);
        var duplicate = sidecars.GroupBy(s => s.AppId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"app id '{duplicate.Key}' appears more than once", nameof(sidecars));
        }

        var runtime = new LocalRuntime();
        try
        {
            var paths = sidecars.SelectMany(s => s.ResourcesPaths).Distinct(StringComparer.Ordinal);
            runtime._registry = await ComponentRegistry.CreateAsync(paths, TimeProvider.System, loggerFactory, cancellationToken);
            foreach (var options in sidecars)
            {
                var sidecar = new Sidecar.Sidecar(options, runtime, runtime._registry, loggerFactory);
                runtime._sidecars.Add(sidecar);
                runtime._byAppId[options.AppId] = sidecar;
                await sidecar.StartAsync(cancellationToken);
            }
            return runtime;
        }
        catch
        {
            await runtime.DisposeAsync();
            throw;
        }
    }

    internal Sidecar.Sidecar? Find(string appId) => _byAppId.GetValueOrDefault(appId);

    /// <summary>Which sidecar hosts which actor types (daprd's Placement service, in-process).</summary>
    internal Actors.ActorPlacement ActorPlacement { get; } = new();

    /// <summary>Signalled when an app calls <c>POST /v1.0/shutdown</c>; the launcher stops the run.</summary>
    public event Action<string>? ShutdownRequested;

    internal void RequestShutdown(string appId) => ShutdownRequested?.Invoke(appId);

    public async ValueTask DisposeAsync()
    {
        foreach (var sidecar in _sidecars)
        {
            await sidecar.DisposeAsync();
        }
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }
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

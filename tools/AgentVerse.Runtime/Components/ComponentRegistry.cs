using AgentVerse.Runtime.PubSub;
using AgentVerse.Runtime.Secrets;
using AgentVerse.Runtime.State;

namespace AgentVerse.Runtime.Components;

/// <summary>A created, initialised component instance and the definition it came from.</summary>
public sealed record LoadedComponent(ComponentDefinition Definition, object Instance, string ResourcesPath)
{
    public IStateStore? StateStore => Instance as IStateStore;
    public IPubSub? PubSub => Instance as IPubSub;
    public ISecretStore? SecretStore => Instance as ISecretStore;
}

/// <summary>
/// Every component and subscription of a run, loaded once from the union of the apps' resources paths
/// so that apps sharing a path share one instance (one SQLite file, one in-memory broker).
/// </summary>
public sealed class ComponentRegistry : IAsyncDisposable
{
    // STUB: replaced by the components helper.
    public IReadOnlyList<LoadedComponent> Components { get; init; } = [];
    public IReadOnlyList<(SubscriptionDefinition Definition, string ResourcesPath)> Subscriptions { get; init; } = [];

    /// <summary>Loads and initialises all components; throws <see cref="ComponentLoadException"/> on the first bad file.</summary>
    public static Task<ComponentRegistry> CreateAsync(IEnumerable<string> resourcesPaths, TimeProvider timeProvider, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Components visible to an app: from one of its resources paths and within scopes.</summary>
    public IEnumerable<LoadedComponent> For(string appId, IReadOnlyCollection<string> resourcesPaths) =>
        Components.Where(c => c.Definition.IsVisibleTo(appId) && resourcesPaths.Contains(c.ResourcesPath, StringComparer.Ordinal));

    public IEnumerable<SubscriptionDefinition> SubscriptionsFor(string appId, IReadOnlyCollection<string> resourcesPaths) =>
        Subscriptions.Where(s => s.Definition.IsVisibleTo(appId) && resourcesPaths.Contains(s.ResourcesPath, StringComparer.Ordinal)).Select(s => s.Definition);

    public async ValueTask DisposeAsync()
    {
        foreach (var c in Components)
        {
            if (c.Instance is IAsyncDisposable d) await d.DisposeAsync();
        }
    }
}

using AgentVerse.Runtime.PubSub;
using AgentVerse.Runtime.Secrets;
using AgentVerse.Runtime.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Runtime.Components;

/// <summary>A created, initialised component instance and the definition it came from.</summary>
/// <param name="Definition">the component, with every <c>secretKeyRef</c> resolved into <see cref="ComponentDefinition.Metadata"/></param>
/// <param name="Instance">an <see cref="IStateStore"/>, <see cref="IPubSub"/> or <see cref="ISecretStore"/></param>
/// <param name="ResourcesPath">the resources directory it was loaded from (full path, no trailing separator)</param>
public sealed record LoadedComponent(ComponentDefinition Definition, object Instance, string ResourcesPath)
{
    public IStateStore? StateStore => Instance as IStateStore;
    public IPubSub? PubSub => Instance as IPubSub;
    public ISecretStore? SecretStore => Instance as ISecretStore;
}

/// <summary>
/// Every component and subscription of a run, loaded once from the union of the apps' resources paths
/// so that apps sharing a path share one instance (one SQLite file, one in-memory broker).
/// <c>pubsub.in-memory</c> components are shared further: every path's component of the same name is one broker.
/// </summary>
/// <remarks>
/// Start-up order follows daprd's dependencies: secret stores first (a store may itself take secrets from another
/// store), then the other components in file order with their <c>secretKeyRef</c>s resolved. Where daprd would log
/// and leave a component waiting forever (unknown store, missing secret), this throws: a component that never
/// appears is the harder failure to diagnose.
/// </remarks>
public sealed class ComponentRegistry : IAsyncDisposable
{
    public IReadOnlyList<LoadedComponent> Components { get; init; } = [];
    public IReadOnlyList<(SubscriptionDefinition Definition, string ResourcesPath)> Subscriptions { get; init; } = [];

    /// <summary>Loads and initialises all components; throws <see cref="ComponentLoadException"/> on the first bad file.</summary>
    public static Task<ComponentRegistry> CreateAsync(IEnumerable<string> resourcesPaths, TimeProvider timeProvider, CancellationToken cancellationToken)
        => CreateAsync(resourcesPaths, timeProvider, NullLoggerFactory.Instance, cancellationToken);

    /// <summary>Loads and initialises all components; throws <see cref="ComponentLoadException"/> on the first bad file.</summary>
    /// <param name="resourcesPaths">directories; duplicates (after normalisation) are loaded once</param>
    /// <param name="timeProvider">passed to the components (TTLs, redelivery delays)</param>
    /// <param name="loggerFactory">component and start-up logs</param>
    /// <param name="cancellationToken">aborts start-up; created components are disposed</param>
    public static async Task<ComponentRegistry> CreateAsync(
        IEnumerable<string> resourcesPaths, TimeProvider timeProvider, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resourcesPaths);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var logger = loggerFactory.CreateLogger<ComponentRegistry>();

        var sets = new List<ResourceSet>();
        foreach (var path in resourcesPaths.Select(NormalizePath).Distinct(StringComparer.Ordinal))
        {
            var set = await ResourceLoader.LoadDirectoryAsync(path, logger, cancellationToken);
            sets.Add(set with { ResourcesPath = path });
        }

        var loaded = new List<LoadedComponent>();
        try
        {
            var manifests = sets.SelectMany(s => s.Components.Select(c => (Manifest: c, s.ResourcesPath))).ToList();
            await CreateSecretStoresAsync(manifests.Where(m => IsSecretStore(m.Manifest)).ToList(), loaded, timeProvider, loggerFactory, logger, cancellationToken);

            foreach (var (manifest, path) in manifests.Where(m => !IsSecretStore(m.Manifest)))
            {
                var component = await TryCreateAsync(manifest, path, loaded, timeProvider, loggerFactory, logger, cancellationToken);
                if (component is not null)
                {
                    loaded.Add(component);
                }
            }
        }
        catch
        {
            await DisposeAllAsync(loaded, logger);
            throw;
        }

        logger.LogInformation("Loaded {Count} components from {Paths}", loaded.Count, string.Join(", ", sets.Select(s => s.ResourcesPath)));
        return new ComponentRegistry
        {
            Components = loaded,
            Subscriptions = sets.SelectMany(s => s.Subscriptions.Select(d => (d, s.ResourcesPath))).ToList(),
        };
    }

    /// <summary>Components visible to an app: from one of its resources paths and within scopes.</summary>
    /// <exception cref="ComponentLoadException">two of the app's resources paths define a component with the same name (daprd refuses duplicates too)</exception>
    public IEnumerable<LoadedComponent> For(string appId, IReadOnlyCollection<string> resourcesPaths)
    {
        var paths = resourcesPaths.Select(NormalizePath).ToHashSet(StringComparer.Ordinal);
        var visible = Components.Where(c => c.Definition.IsVisibleTo(appId) && paths.Contains(c.ResourcesPath)).ToList();
        var duplicate = visible.GroupBy(c => c.Definition.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            var files = string.Join(" and ", duplicate.Select(c => c.Definition.SourceFile));
            throw duplicate.Last().Definition.Invalid("metadata.name", $"duplicate component name for app '{appId}', defined in {files}");
        }
        return visible;
    }

    /// <summary>Declarative subscriptions visible to an app: from one of its resources paths and within scopes.</summary>
    public IEnumerable<SubscriptionDefinition> SubscriptionsFor(string appId, IReadOnlyCollection<string> resourcesPaths)
    {
        var paths = resourcesPaths.Select(NormalizePath).ToHashSet(StringComparer.Ordinal);
        return Subscriptions.Where(s => s.Definition.IsVisibleTo(appId) && paths.Contains(s.ResourcesPath)).Select(s => s.Definition);
    }

    public async ValueTask DisposeAsync() => await DisposeAllAsync(Components, NullLogger.Instance);

    /// <summary>The form resources paths are kept and compared in: full path, no trailing separator.</summary>
    public static string NormalizePath(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static bool IsSecretStore(ComponentManifest m) => m.Definition.Type.StartsWith("secretstores.", StringComparison.Ordinal);

    // Secret stores may take their own metadata from another secret store; create them in dependency order.
    private static async Task CreateSecretStoresAsync(
        List<(ComponentManifest Manifest, string ResourcesPath)> pending, List<LoadedComponent> loaded,
        TimeProvider timeProvider, ILoggerFactory loggerFactory, ILogger logger, CancellationToken cancellationToken)
    {
        while (pending.Count > 0)
        {
            var ready = pending.FindIndex(p => p.Manifest.Definition.SecretRefs.Count == 0
                || p.Manifest.Definition.SecretStore is null
                || FindSecretStore(p.Manifest.Definition.SecretStore, p.ResourcesPath, loaded) is not null
                || !pending.Any(o => o.Manifest.Definition.Name == p.Manifest.Definition.SecretStore));
            // With no ready store left, what remains is a cycle: create the first one and let it report the missing store.
            var (manifest, path) = pending[ready < 0 ? 0 : ready];
            pending.RemoveAt(ready < 0 ? 0 : ready);
            var component = await TryCreateAsync(manifest, path, loaded, timeProvider, loggerFactory, logger, cancellationToken);
            if (component is not null)
            {
                loaded.Add(component);
            }
        }
    }

    private static async Task<LoadedComponent?> TryCreateAsync(
        ComponentManifest manifest, string resourcesPath, List<LoadedComponent> loaded,
        TimeProvider timeProvider, ILoggerFactory loggerFactory, ILogger logger, CancellationToken cancellationToken)
    {
        var definition = manifest.Definition;
        try
        {
            definition = await ResolveSecretsAsync(definition, resourcesPath, loaded, cancellationToken);
            definition = ApplyAppTemplates(definition, logger);
            // One in-memory broker per component name across resources paths: apps that each declare the same
            // pubsub.in-memory component in their own directory reach each other, as through a shared Redis.
            var shared = definition.Type == "pubsub.in-memory"
                ? loaded.FirstOrDefault(c => c.Definition.Type == definition.Type && c.Definition.Name == definition.Name)
                : null;
            var instance = shared?.Instance
                ?? await CreateInstanceAsync(manifest with { Definition = definition }, timeProvider, loggerFactory, cancellationToken);
            logger.LogInformation("Component {Component} ({Type}/{Version}) loaded from {File}", definition.Name, definition.Type, definition.Version, definition.SourceFile);
            return new LoadedComponent(definition, instance, resourcesPath);
        }
        catch (Exception ex) when (manifest.IgnoreErrors && ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Component {Component} in {File} failed to load and is skipped (ignoreErrors: true)", definition.Name, definition.SourceFile);
            return null;
        }
    }

    private static async Task<ComponentDefinition> ResolveSecretsAsync(
        ComponentDefinition definition, string resourcesPath, List<LoadedComponent> loaded, CancellationToken cancellationToken)
    {
        if (definition.SecretRefs.Count == 0)
        {
            return definition;
        }

        var (firstItem, firstRef) = definition.SecretRefs.First();
        if (definition.SecretStore is null)
        {
            // Self-hosted daprd has no default secret store (only Kubernetes mode defaults to "kubernetes"): such a
            // component waits forever for a store named "". Say so instead.
            throw definition.Invalid($"spec.metadata.{firstItem}.secretKeyRef",
                $"references secret '{firstRef.Name}' but the component has no auth.secretStore; self-hosted mode has no default secret store");
        }

        var store = FindSecretStore(definition.SecretStore, resourcesPath, loaded)
            ?? throw definition.Invalid("auth.secretStore", $"secret store '{definition.SecretStore}' is not a loaded secret store component");

        var metadata = new Dictionary<string, string>(definition.Metadata, StringComparer.Ordinal);
        var cache = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (item, secretRef) in definition.SecretRefs)
        {
            var field = $"spec.metadata.{item}.secretKeyRef";
            if (!cache.TryGetValue(secretRef.Name, out var secret))
            {
                try
                {
                    secret = await store.GetSecretAsync(secretRef.Name, new Dictionary<string, string>(), cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw definition.Invalid(field, $"cannot read secret '{secretRef.Name}' from store '{definition.SecretStore}': {ex.Message}");
                }
                cache[secretRef.Name] = secret;
            }

            // daprd: the key defaults to the secret's name; an empty value counts as unresolved.
            var key = secretRef.Key ?? secretRef.Name;
            if (!secret.TryGetValue(key, out var value) || value.Length == 0)
            {
                throw definition.Invalid(field, $"secret '{secretRef.Name}' in store '{definition.SecretStore}' has no (non-empty) key '{key}'");
            }
            metadata[item] = value;
        }
        return definition with { Metadata = metadata, SecretRefs = new Dictionary<string, SecretKeyRef>() };
    }

    // daprd resolves {appID}/{namespace} per sidecar, but here one instance serves every app that sees the component.
    // A component scoped to a single app can only ever serve that app, so resolve for it; otherwise the tags stay
    // literal (the sidecar can still resolve them per app with ResourceLoader.ApplyAppTemplates).
    private static ComponentDefinition ApplyAppTemplates(ComponentDefinition definition, ILogger logger)
    {
        if (!definition.Metadata.Values.Any(v => v.Contains("{appID}", StringComparison.Ordinal) || v.Contains("{namespace}", StringComparison.Ordinal)))
        {
            return definition;
        }
        if (definition.Scopes.Count == 1)
        {
            return ResourceLoader.ApplyAppTemplates(definition, definition.Scopes[0]);
        }
        logger.LogWarning(
            "Component {Component} in {File} uses {{appID}} or {{namespace}} but is shared by several apps; the instance keeps them literal. Scope it to one app to resolve them",
            definition.Name, definition.SourceFile);
        return definition;
    }

    // The store from the same resources path wins; otherwise a store of that name from any other path.
    private static ISecretStore? FindSecretStore(string name, string resourcesPath, List<LoadedComponent> loaded) =>
        (loaded.FirstOrDefault(c => c.Definition.Name == name && c.ResourcesPath == resourcesPath && c.SecretStore is not null)
            ?? loaded.FirstOrDefault(c => c.Definition.Name == name && c.SecretStore is not null))?.SecretStore;

    private static async Task<object> CreateInstanceAsync(
        ComponentManifest manifest, TimeProvider timeProvider, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var definition = manifest.Definition;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(manifest.InitTimeout);
        try
        {
            switch (definition.Type)
            {
                case "secretstores.local.file":
                    return await LocalFileSecretStore.CreateAsync(definition, loggerFactory.CreateLogger<LocalFileSecretStore>(), timeout.Token);
                case "secretstores.local.env":
                    return LocalEnvSecretStore.Create(definition, loggerFactory.CreateLogger<LocalEnvSecretStore>());
                case "pubsub.in-memory":
                    return InMemoryPubSub.Create(definition, loggerFactory, timeProvider);
                case "state.in-memory" or "state.sqlite" or "state.postgresql":
                    var store = definition.Type switch
                    {
                        "state.in-memory" => InMemoryStateStore.Create(definition, timeProvider),
                        "state.sqlite" => SqliteStateStore.Create(definition, timeProvider),
                        _ => PostgresStateStore.Create(definition, timeProvider),
                    };
                    try
                    {
                        // WaitAsync enforces initTimeout even on a store that ignores its token.
                        await store.InitAsync(timeout.Token).WaitAsync(timeout.Token);
                    }
                    catch
                    {
                        await store.DisposeAsync();
                        throw;
                    }
                    return store;
                default:
                    // The loader only lets supported types through; this guards the two lists drifting apart.
                    throw definition.Invalid("spec.type", $"no factory for component type '{definition.Type}'");
            }
        }
        catch (ComponentLoadException)
        {
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw definition.Invalid("spec.initTimeout", $"initialisation did not finish within {manifest.InitTimeout}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ComponentLoadException(definition.SourceFile, definition.Name, null, $"failed to initialise {definition.Type}/{definition.Version}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static async ValueTask DisposeAllAsync(IEnumerable<LoadedComponent> components, ILogger logger)
    {
        // Reverse creation order: dependents go before the secret stores they were built from.
        var disposed = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var c in components.Reverse())
        {
            if (!disposed.Add(c.Instance))
            {
                continue; // a broker shared by several resources paths
            }
            try
            {
                switch (c.Instance)
                {
                    case IAsyncDisposable d:
                        await d.DisposeAsync();
                        break;
                    case IDisposable d:
                        d.Dispose();
                        break;
                }
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Disposing component {Component} failed", c.Definition.Name);
            }
        }
    }
}

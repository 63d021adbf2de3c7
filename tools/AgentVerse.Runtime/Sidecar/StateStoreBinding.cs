using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.State;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>A state store as one app sees it: the shared store plus that app's key prefix.</summary>
internal sealed class StateStoreBinding(LoadedComponent component, string appId)
{
    public LoadedComponent Component { get; } = component;
    public IStateStore Store { get; } = component.StateStore!;
    public string Name => Component.Definition.Name;

    /// <summary>Null when keys are stored unprefixed (<c>keyPrefix: none</c>).</summary>
    public string? Prefix { get; } = ResolvePrefix(component.Definition, appId);

    public bool IsActorStateStore => string.Equals(Component.Definition.Get("actorStateStore"), "true", StringComparison.OrdinalIgnoreCase);

    public string StoredKey(string key) => Prefix is null ? key : Prefix + "||" + key;

    // daprd pkg/components/state/state_config.go: appid (default) | name | namespace | none | any literal.
    private static string? ResolvePrefix(ComponentDefinition definition, string appId)
    {
        var strategy = definition.Get("keyPrefix");
        return strategy?.ToLowerInvariant() switch
        {
            null or "" or "appid" => appId,
            "name" => definition.Name,
            "none" => null,
            "namespace" => Environment.GetEnvironmentVariable("NAMESPACE") is { Length: > 0 } ns ? $"{ns}.{appId}" : appId,
            _ => strategy,
        };
    }
}

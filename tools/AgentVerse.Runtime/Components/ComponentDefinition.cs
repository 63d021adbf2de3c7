namespace AgentVerse.Runtime.Components;

/// <summary>A Dapr <c>Component</c> resource as read from YAML, with metadata values resolved to strings.</summary>
/// <param name="Name">metadata.name</param>
/// <param name="Type">spec.type, e.g. <c>state.sqlite</c></param>
/// <param name="Version">spec.version, e.g. <c>v1</c></param>
/// <param name="Metadata">spec.metadata as name → value (plain values and resolved secret/env references)</param>
/// <param name="SecretRefs">spec.metadata entries given as <c>secretKeyRef</c>, still to be resolved from <paramref name="SecretStore"/></param>
/// <param name="SecretStore">auth.secretStore, the store that resolves <paramref name="SecretRefs"/></param>
/// <param name="Scopes">app ids allowed to use the component; empty = all</param>
/// <param name="SourceFile">the YAML file it came from, for error messages</param>
public sealed record ComponentDefinition(
    string Name,
    string Type,
    string Version,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyDictionary<string, SecretKeyRef> SecretRefs,
    string? SecretStore,
    IReadOnlyList<string> Scopes,
    string SourceFile)
{
    public bool IsVisibleTo(string appId) => Scopes.Count == 0 || Scopes.Contains(appId, StringComparer.Ordinal);

    /// <summary>Case-insensitive metadata lookup, as components-contrib does.</summary>
    public string? Get(string key) =>
        Metadata.TryGetValue(key, out var v) ? v
        : Metadata.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    public ComponentLoadException Invalid(string field, string message) => new(SourceFile, Name, field, message);
}

/// <summary>A <c>secretKeyRef</c> on a component metadata item.</summary>
public sealed record SecretKeyRef(string Name, string? Key);

/// <summary>A Dapr <c>Subscription</c> resource (v1alpha1 <c>route</c> or v2alpha1 <c>routes</c>).</summary>
public sealed record SubscriptionDefinition(
    string Name,
    string PubsubName,
    string Topic,
    IReadOnlyList<RouteRule> Rules,
    string? DefaultRoute,
    string? DeadLetterTopic,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Scopes,
    string SourceFile)
{
    public bool IsVisibleTo(string appId) => Scopes.Count == 0 || Scopes.Contains(appId, StringComparer.Ordinal);
}

/// <summary>One routing rule: a CEL <paramref name="Match"/> expression and the app path to deliver to.</summary>
public sealed record RouteRule(string Match, string Path);

/// <summary>A resource file that cannot be loaded. The message names the file, the component and the field.</summary>
public sealed class ComponentLoadException(string file, string? component, string? field, string message)
    : Exception(Format(file, component, field, message))
{
    public string File { get; } = file;
    public string? Component { get; } = component;
    public string? Field { get; } = field;

    private static string Format(string file, string? component, string? field, string message) =>
        $"{file}: " + (component is null ? "" : $"component '{component}': ") + (field is null ? "" : $"field '{field}': ") + message;
}

using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AgentVerse.Runtime.Components;

/// <summary>A component as declared in YAML, with the spec fields that steer loading but are not component metadata.</summary>
/// <param name="Definition">the component; <c>{uuid}</c> and <c>envRef</c> already resolved, <c>secretKeyRef</c>s still pending</param>
/// <param name="InitTimeout">spec.initTimeout (daprd default 5s)</param>
/// <param name="IgnoreErrors">spec.ignoreErrors: a failing component is logged and skipped instead of failing start-up</param>
public sealed record ComponentManifest(ComponentDefinition Definition, TimeSpan InitTimeout, bool IgnoreErrors);

/// <summary>Everything read from one resources directory, in file order.</summary>
public sealed record ResourceSet(string ResourcesPath, IReadOnlyList<ComponentManifest> Components, IReadOnlyList<SubscriptionDefinition> Subscriptions);

/// <summary>
/// Reads Dapr resource YAML the way daprd's disk loader does: every <c>*.yaml</c>/<c>*.yml</c> directly in the
/// directory (not recursive), several documents per file, only <c>Component</c> (dapr.io/v1alpha1) and
/// <c>Subscription</c> (dapr.io/v1alpha1 and v2alpha1) kinds; other kinds are skipped.
/// Unlike daprd, which logs a bad file and carries on, every problem throws <see cref="ComponentLoadException"/>:
/// a half-loaded sidecar is harder to debug than one that refuses to start.
/// </summary>
/// <remarks>
/// Template tags: <c>{uuid}</c> is replaced here (a fresh UUID per occurrence, as daprd does). <c>{podName}</c> is
/// rejected because there is no pod in self-hosted mode (daprd fails the same way). <c>{appID}</c> and <c>{namespace}</c>
/// depend on the app; a component is loaded once for every app that shares its resources path, so they are left in the
/// metadata verbatim and resolved per app by <see cref="ApplyAppTemplates"/>.
/// </remarks>
public static partial class ResourceLoader
{
    public const string ComponentApiVersion = "dapr.io/v1alpha1";
    public const string SubscriptionV1ApiVersion = "dapr.io/v1alpha1";
    public const string SubscriptionV2ApiVersion = "dapr.io/v2alpha1";

    /// <summary>daprd's default spec.initTimeout.</summary>
    public static readonly TimeSpan DefaultInitTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Component types this runtime can create, each with the versions it accepts.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> SupportedTypes { get; } =
        new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["state.in-memory"] = ["v1"],
            ["state.sqlite"] = ["v1"],
            ["state.postgresql"] = ["v1", "v2"],
            ["pubsub.in-memory"] = ["v1"],
            ["secretstores.local.file"] = ["v1"],
            ["secretstores.local.env"] = ["v1"],
        };

    /// <summary>Loads one resources directory.</summary>
    /// <exception cref="ComponentLoadException">the directory is missing, or a file is invalid (the message names the file, component and field)</exception>
    public static async Task<ResourceSet> LoadDirectoryAsync(string resourcesPath, ILogger? logger, CancellationToken cancellationToken)
    {
        logger ??= NullLogger.Instance;
        if (!Directory.Exists(resourcesPath))
        {
            throw new ComponentLoadException(resourcesPath, null, null, "resources path does not exist or is not a directory");
        }

        var components = new List<ComponentManifest>();
        var subscriptions = new List<SubscriptionDefinition>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);

        // daprd reads the directory in name order (os.ReadDir sorts); do the same so load order is stable.
        var files = Directory.EnumerateFiles(resourcesPath)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);

        foreach (var file in files)
        {
            var text = await File.ReadAllTextAsync(file, cancellationToken);
            var set = Parse(text, file, logger);
            foreach (var c in set.Components)
            {
                if (names.TryGetValue(c.Definition.Name, out var firstFile))
                {
                    throw c.Definition.Invalid("metadata.name", $"duplicate component name, already defined in {firstFile}");
                }
                names.Add(c.Definition.Name, file);
                components.Add(c);
            }
            subscriptions.AddRange(set.Subscriptions);
        }

        return new ResourceSet(resourcesPath, components, subscriptions);
    }

    /// <summary>Parses the YAML text of one file (possibly several <c>---</c>-separated documents).</summary>
    /// <param name="text">file content</param>
    /// <param name="file">file name, used in error messages and as <see cref="ComponentDefinition.SourceFile"/></param>
    /// <param name="logger">receives warnings (e.g. a forbidden envRef); may be null</param>
    public static ResourceSet Parse(string text, string file, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new ComponentLoadException(file, null, null,
                $"malformed YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}");
        }

        var components = new List<ComponentManifest>();
        var subscriptions = new List<SubscriptionDefinition>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" })
            {
                continue; // an empty document, e.g. a trailing '---'
            }
            if (document.RootNode is not YamlMappingNode root)
            {
                throw new ComponentLoadException(file, null, null, $"a resource document must be a mapping (line {document.RootNode.Start.Line})");
            }

            var apiVersion = Scalar(root, "apiVersion");
            var kind = Scalar(root, "kind");
            switch (kind)
            {
                case "Component" when apiVersion == ComponentApiVersion:
                    if (ParseComponent(root, file, logger) is { } component)
                    {
                        components.Add(component);
                    }
                    break;
                case "Subscription" when apiVersion is SubscriptionV1ApiVersion or SubscriptionV2ApiVersion:
                    subscriptions.Add(ParseSubscription(root, file, apiVersion == SubscriptionV2ApiVersion));
                    break;
                default:
                    // Configuration, Resiliency, HTTPEndpoint, other API versions: daprd's component loader skips them too.
                    break;
            }
        }

        var duplicate = components.GroupBy(c => c.Definition.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw duplicate.First().Definition.Invalid("metadata.name", "duplicate component name in the same file");
        }
        return new ResourceSet(Path.GetDirectoryName(file) ?? "", components, subscriptions);
    }

    /// <summary>
    /// Resolves the app-dependent template tags in a component's metadata as daprd does for the sidecar of
    /// <paramref name="appId"/>: <c>{appID}</c> → the app id, <c>{namespace}</c> → <c>&lt;namespace&gt;.&lt;appId&gt;</c>.
    /// </summary>
    /// <param name="definition">the component</param>
    /// <param name="appId">the app whose sidecar uses the component</param>
    /// <param name="kubernetesNamespace">daprd reads NAMESPACE, "default" when unset</param>
    public static ComponentDefinition ApplyAppTemplates(ComponentDefinition definition, string appId, string? kubernetesNamespace = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (!definition.Metadata.Values.Any(v => v.Contains("{appID}", StringComparison.Ordinal) || v.Contains("{namespace}", StringComparison.Ordinal)))
        {
            return definition;
        }

        var ns = kubernetesNamespace ?? Environment.GetEnvironmentVariable("NAMESPACE") ?? "default";
        var metadata = definition.Metadata.ToDictionary(
            kv => kv.Key,
            kv => kv.Value.Replace("{namespace}", ns + "." + appId, StringComparison.Ordinal).Replace("{appID}", appId, StringComparison.Ordinal),
            StringComparer.Ordinal);
        return definition with { Metadata = metadata };
    }

    private static ComponentManifest? ParseComponent(YamlMappingNode root, string file, ILogger logger)
    {
        var meta = Child(root, "metadata") as YamlMappingNode;
        var name = meta is null ? null : Scalar(meta, "name");
        if (string.IsNullOrEmpty(name))
        {
            throw new ComponentLoadException(file, null, "metadata.name", "a Component needs a name");
        }
        ValidateName(name, file, "Component");

        if (Child(root, "spec") is not YamlMappingNode spec)
        {
            throw new ComponentLoadException(file, name, "spec", "a Component needs a spec with a type");
        }

        var type = Scalar(spec, "type");
        if (string.IsNullOrEmpty(type))
        {
            throw new ComponentLoadException(file, name, "spec.type", "a Component needs a type, e.g. state.sqlite");
        }

        // daprd looks components up case-insensitively and treats "", "v0" and "v1" as the initial version.
        type = type.ToLowerInvariant();
        var version = (Scalar(spec, "version") ?? "").ToLowerInvariant();
        if (version is "" or "v0")
        {
            version = "v1";
        }
        var ignoreErrors = false;
        var ignoreErrorsText = Scalar(spec, "ignoreErrors");
        if (!string.IsNullOrEmpty(ignoreErrorsText) && !bool.TryParse(ignoreErrorsText, out ignoreErrors))
        {
            throw new ComponentLoadException(file, name, "spec.ignoreErrors", $"'{ignoreErrorsText}' is not true or false");
        }

        ComponentLoadException? unsupported = null;
        if (!SupportedTypes.TryGetValue(type, out var versions))
        {
            unsupported = new ComponentLoadException(file, name, "spec.type",
                $"unsupported component type '{type}'; supported types: {string.Join(", ", SupportedTypes.Keys)}");
        }
        else if (!versions.Contains(version, StringComparer.Ordinal))
        {
            unsupported = new ComponentLoadException(file, name, "spec.version",
                $"unsupported version '{version}' for {type}; supported: {string.Join(", ", versions)}");
        }
        if (unsupported is not null)
        {
            // daprd reports an unknown type when it creates the component, where ignoreErrors applies.
            if (!ignoreErrors)
            {
                throw unsupported;
            }
            logger.LogWarning("{Error}; skipped (ignoreErrors: true)", unsupported.Message);
            return null;
        }

        var initTimeout = DefaultInitTimeout;
        var initTimeoutText = Scalar(spec, "initTimeout");
        if (!string.IsNullOrEmpty(initTimeoutText) && !GoDuration.TryParse(initTimeoutText, out initTimeout))
        {
            throw new ComponentLoadException(file, name, "spec.initTimeout", $"'{initTimeoutText}' is not a duration such as 5s or 1m30s");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var secretRefs = new Dictionary<string, SecretKeyRef>(StringComparer.Ordinal);
        switch (Child(spec, "metadata"))
        {
            case null:
            case YamlScalarNode { Value: null or "" }:
                break;
            case YamlSequenceNode items:
                ParseMetadataItems(items, file, name, metadata, secretRefs, logger);
                break;
            default:
                throw new ComponentLoadException(file, name, "spec.metadata", "must be a list of {name, value} items");
        }

        string? secretStore = null;
        if (Child(root, "auth") is YamlMappingNode auth)
        {
            secretStore = Scalar(auth, "secretStore");
            secretStore = string.IsNullOrEmpty(secretStore) ? null : secretStore;
        }

        var definition = new ComponentDefinition(name, type, version, metadata, secretRefs, secretStore, Scopes(root, file, name), file);
        return new ComponentManifest(definition, initTimeout, ignoreErrors);
    }

    private static void ParseMetadataItems(
        YamlSequenceNode items, string file, string component,
        Dictionary<string, string> metadata, Dictionary<string, SecretKeyRef> secretRefs, ILogger logger)
    {
        for (var i = 0; i < items.Children.Count; i++)
        {
            var field = $"spec.metadata[{i}]";
            if (items.Children[i] is not YamlMappingNode item)
            {
                throw new ComponentLoadException(file, component, field, "a metadata item must be a mapping with a name");
            }

            var itemName = Scalar(item, "name");
            if (string.IsNullOrEmpty(itemName))
            {
                throw new ComponentLoadException(file, component, field + ".name", "a metadata item needs a name");
            }
            field = $"spec.metadata.{itemName}";

            var valueNode = Child(item, "value");
            var hasValue = valueNode is not null and not YamlScalarNode { Value: null };
            var envRef = Scalar(item, "envRef");

            if (Child(item, "secretKeyRef") is { } refNode)
            {
                if (refNode is not YamlMappingNode secretRef)
                {
                    throw new ComponentLoadException(file, component, field + ".secretKeyRef", "must be a mapping {name, key}");
                }
                var secretName = Scalar(secretRef, "name");
                if (string.IsNullOrEmpty(secretName))
                {
                    throw new ComponentLoadException(file, component, field + ".secretKeyRef.name", "a secretKeyRef needs the name of the secret");
                }
                var key = Scalar(secretRef, "key");
                secretRefs[itemName] = new SecretKeyRef(secretName, string.IsNullOrEmpty(key) ? null : key);
                metadata.Remove(itemName);
                continue;
            }

            if (!hasValue && !string.IsNullOrEmpty(envRef))
            {
                // Same deny-list as daprd's envRef resolution: the sidecar's own tokens are never handed to a component.
                if (IsEnvVarAllowed(envRef))
                {
                    metadata[itemName] = Environment.GetEnvironmentVariable(envRef) ?? "";
                }
                else
                {
                    logger.LogWarning("Component {Component} in {File} references an env variable that isn't allowed: {EnvRef}", component, file, envRef);
                    metadata[itemName] = "";
                }
                continue;
            }

            metadata[itemName] = ReplaceUuids(ValueText(valueNode));
            secretRefs.Remove(itemName);
        }

        // daprd fails a component whose metadata mentions {podName} when no pod name is known (always, in self-hosted mode).
        var podName = metadata.FirstOrDefault(kv => kv.Value.Contains("{podName}", StringComparison.Ordinal));
        if (podName.Key is not null)
        {
            throw new ComponentLoadException(file, component, $"spec.metadata.{podName.Key}", "refers to {podName}, which is only set in Kubernetes mode");
        }
    }

    private static SubscriptionDefinition ParseSubscription(YamlMappingNode root, string file, bool v2)
    {
        var meta = Child(root, "metadata") as YamlMappingNode;
        var name = meta is null ? null : Scalar(meta, "name");
        if (string.IsNullOrEmpty(name))
        {
            throw new ComponentLoadException(file, null, "metadata.name", "a Subscription needs a name");
        }
        ValidateName(name, file, "Subscription");

        if (Child(root, "spec") is not YamlMappingNode spec)
        {
            throw new ComponentLoadException(file, name, "spec", "a Subscription needs a spec with pubsubname, topic and routes");
        }

        var pubsub = Scalar(spec, "pubsubname");
        if (string.IsNullOrEmpty(pubsub))
        {
            throw new ComponentLoadException(file, name, "spec.pubsubname", "a Subscription needs the name of a pub/sub component");
        }
        var topic = Scalar(spec, "topic");
        if (string.IsNullOrEmpty(topic))
        {
            throw new ComponentLoadException(file, name, "spec.topic", "a Subscription needs a topic");
        }

        var rules = new List<RouteRule>();
        string? defaultRoute;
        if (v2)
        {
            var routes = Child(spec, "routes") as YamlMappingNode;
            defaultRoute = routes is null ? null : NullIfEmpty(Scalar(routes, "default"));
            if (routes is not null && Child(routes, "rules") is YamlSequenceNode ruleNodes)
            {
                for (var i = 0; i < ruleNodes.Children.Count; i++)
                {
                    if (ruleNodes.Children[i] is not YamlMappingNode rule || string.IsNullOrEmpty(Scalar(rule, "path")))
                    {
                        throw new ComponentLoadException(file, name, $"spec.routes.rules[{i}].path", "a routing rule needs a path");
                    }
                    rules.Add(new RouteRule(Scalar(rule, "match") ?? "", Scalar(rule, "path")!));
                }
            }
            if (rules.Count == 0 && defaultRoute is null)
            {
                // daprd drops a subscription without any route; failing names the mistake instead.
                throw new ComponentLoadException(file, name, "spec.routes", "a v2alpha1 Subscription needs routes.rules or routes.default");
            }
        }
        else
        {
            // v1alpha1's single route is what daprd turns into an unconditional rule, i.e. the default route.
            defaultRoute = NullIfEmpty(Scalar(spec, "route"));
            if (defaultRoute is null)
            {
                throw new ComponentLoadException(file, name, "spec.route", "a v1alpha1 Subscription needs a route");
            }
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Child(spec, "metadata") is YamlMappingNode md)
        {
            foreach (var (k, v) in md.Children)
            {
                metadata[((YamlScalarNode)k).Value ?? ""] = ValueText(v);
            }
        }

        return new SubscriptionDefinition(
            name, pubsub, topic, rules, defaultRoute, NullIfEmpty(Scalar(spec, "deadLetterTopic")), metadata, Scopes(root, file, name), file);
    }

    private static List<string> Scopes(YamlMappingNode root, string file, string name) => Child(root, "scopes") switch
    {
        null or YamlScalarNode { Value: null or "" } => [],
        YamlSequenceNode seq => seq.Children.Select(n => n is YamlScalarNode s ? s.Value ?? "" : throw new ComponentLoadException(file, name, "scopes", "must be a list of app ids"))
            .Where(s => s.Length > 0).ToList(),
        _ => throw new ComponentLoadException(file, name, "scopes", "must be a list of app ids"),
    };

    // Kubernetes path-segment rule that daprd applies to every resource name.
    private static void ValidateName(string name, string file, string kind)
    {
        if (name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('%', StringComparison.Ordinal))
        {
            throw new ComponentLoadException(file, name, "metadata.name", $"invalid name for a {kind}: may not be '.' or '..' or contain '/' or '%'");
        }
    }

    internal static bool IsEnvVarAllowed(string name)
    {
        var upper = name.ToUpperInvariant();
        return upper.Length > 0 && upper != "APP_API_TOKEN" && !upper.StartsWith("DAPR_", StringComparison.Ordinal) && !upper.Contains(' ', StringComparison.Ordinal);
    }

    private static string ReplaceUuids(string value)
    {
        const string tag = "{uuid}";
        if (!value.Contains(tag, StringComparison.Ordinal))
        {
            return value;
        }
        var sb = new StringBuilder(value.Length + 32);
        int start = 0, at;
        while ((at = value.IndexOf(tag, start, StringComparison.Ordinal)) >= 0)
        {
            sb.Append(value, start, at - start).Append(Guid.NewGuid().ToString());
            start = at + tag.Length;
        }
        return sb.Append(value, start, value.Length - start).ToString();
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    private static string? Scalar(YamlMappingNode node, string key) => Child(node, key) is YamlScalarNode s ? s.Value : null;

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>A metadata value as daprd's DynamicValue gives it to components: scalars as written, structures as JSON.</summary>
    private static string ValueText(YamlNode? node) => node switch
    {
        null => "",
        YamlScalarNode s => s.Value ?? "",
        _ => ToJson(node),
    };

    private static string ToJson(YamlNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(writer, node);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    private static void WriteJson(Utf8JsonWriter writer, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                writer.WriteStartObject();
                foreach (var (k, v) in map.Children)
                {
                    writer.WritePropertyName(((YamlScalarNode)k).Value ?? "");
                    WriteJson(writer, v);
                }
                writer.WriteEndObject();
                break;
            case YamlSequenceNode seq:
                writer.WriteStartArray();
                foreach (var item in seq.Children)
                {
                    WriteJson(writer, item);
                }
                writer.WriteEndArray();
                break;
            case YamlScalarNode { Value: null }:
            case YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" or "Null" or "NULL" }:
                writer.WriteNullValue();
                break;
            case YamlScalarNode s when s.Style is ScalarStyle.Plain && (s.Value is "true" or "false"):
                writer.WriteBooleanValue(s.Value == "true");
                break;
            case YamlScalarNode s when s.Style is ScalarStyle.Plain && JsonNumber().IsMatch(s.Value ?? ""):
                writer.WriteRawValue(s.Value!);
                break;
            case YamlScalarNode s:
                writer.WriteStringValue(s.Value);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}

using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>
/// The inbound resiliency policy for one pub/sub component, read from Dapr <c>Resiliency</c> resources
/// (<c>spec.targets.components.&lt;name&gt;.inbound</c> → <c>spec.policies.retries/timeouts</c>).
/// Without one, daprd makes a single attempt per component-level delivery.
/// </summary>
internal sealed record DeliveryPolicy(TimeSpan? Timeout, RetryPolicy? Retry)
{
    public static readonly DeliveryPolicy None = new(null, null);

    public static DeliveryPolicy ForComponent(string componentName, string appId, IEnumerable<string> resourcesPaths)
    {
        foreach (var file in resourcesPaths.Where(Directory.Exists)
                     .SelectMany(p => Directory.EnumerateFiles(p).Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)))
                     .Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            try
            {
                using var reader = new StreamReader(file);
                stream.Load(reader);
            }
            catch (YamlDotNet.Core.YamlException)
            {
                continue; // the component loader reports malformed files
            }
            foreach (var document in stream.Documents)
            {
                if (document.RootNode is YamlMappingNode root && Scalar(root, "kind") == "Resiliency" && InScope(root, appId)
                    && Path(root, "spec", "targets", "components", componentName, "inbound") is YamlMappingNode inbound)
                {
                    var spec = (YamlMappingNode)root.Children[new YamlScalarNode("spec")];
                    return new DeliveryPolicy(
                        Scalar(inbound, "timeout") is { } timeoutName ? ResolveTimeout(spec, timeoutName, file) : null,
                        Scalar(inbound, "retry") is { } retryName ? ResolveRetry(spec, retryName, file) : null);
                }
            }
        }
        return None;
    }

    private static bool InScope(YamlMappingNode root, string appId) =>
        !root.Children.TryGetValue(new YamlScalarNode("scopes"), out var scopes) || scopes is not YamlSequenceNode list || list.Children.Count == 0
        || list.Children.OfType<YamlScalarNode>().Any(s => s.Value == appId);

    private static TimeSpan ResolveTimeout(YamlMappingNode spec, string name, string file)
    {
        var value = Scalar(Path(spec, "policies", "timeouts") as YamlMappingNode, name) ?? name;
        return GoDuration.TryParse(value, out var timeout) ? timeout
            : throw new Components.ComponentLoadException(file, null, $"spec.policies.timeouts.{name}", $"'{value}' is not a duration");
    }

    private static RetryPolicy ResolveRetry(YamlMappingNode spec, string name, string file)
    {
        if (Path(spec, "policies", "retries", name) is not YamlMappingNode node)
        {
            throw new Components.ComponentLoadException(file, null, $"spec.policies.retries.{name}", "retry policy not found");
        }
        TimeSpan Duration(string key, TimeSpan fallback) =>
            Scalar(node, key) is { } text ? GoDuration.TryParse(text, out var d) ? d
                : throw new Components.ComponentLoadException(file, null, $"spec.policies.retries.{name}.{key}", $"'{text}' is not a duration")
            : fallback;
        var maxRetries = Scalar(node, "maxRetries") is { } m ? int.Parse(m, CultureInfo.InvariantCulture) : -1;
        var exponential = string.Equals(Scalar(node, "policy"), "exponential", StringComparison.OrdinalIgnoreCase);
        // Dapr defaults: constant 5s; exponential from 500ms ×1.5 capped at maxInterval (60s).
        return new RetryPolicy(exponential, Duration("duration", TimeSpan.FromSeconds(5)), Duration("maxInterval", TimeSpan.FromSeconds(60)), maxRetries);
    }

    private static YamlNode? Path(YamlMappingNode? node, params string[] keys)
    {
        YamlNode? current = node;
        foreach (var key in keys)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out current))
            {
                return null;
            }
        }
        return current;
    }

    private static string? Scalar(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;
}

/// <param name="Exponential">exponential backoff, else constant</param>
/// <param name="Duration">constant interval</param>
/// <param name="MaxInterval">cap for exponential backoff</param>
/// <param name="MaxRetries">-1 = retry forever</param>
internal sealed record RetryPolicy(bool Exponential, TimeSpan Duration, TimeSpan MaxInterval, int MaxRetries)
{
    public bool CanRetry(int retriesDone) => MaxRetries < 0 || retriesDone < MaxRetries;

    public TimeSpan Delay(int retriesDone)
    {
        if (!Exponential)
        {
            return Duration;
        }
        var delay = TimeSpan.FromMilliseconds(500 * Math.Pow(1.5, retriesDone));
        return delay > MaxInterval ? MaxInterval : delay;
    }
}

using System.Text.Json;

namespace AgentVerse.Runtime.Actors;

/// <summary>Per actor type settings from the app's <c>GET /dapr/config</c> (daprd pkg/config/app_configuration.go).</summary>
internal sealed record ActorTypeSettings(TimeSpan IdleTimeout, bool ReentrancyEnabled, int MaxStackDepth, TimeSpan DrainOngoingCallTimeout);

/// <summary>The app's actor configuration: hosted types, their settings, and how often idle actors are looked for.</summary>
internal sealed class ActorAppConfig
{
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(60);
    public static readonly TimeSpan DefaultDrainOngoingCallTimeout = TimeSpan.FromSeconds(60);
    public const int DefaultMaxStackDepth = 32;

    private readonly Dictionary<string, ActorTypeSettings> _byType;

    private ActorAppConfig(Dictionary<string, ActorTypeSettings> byType, TimeSpan scanInterval, bool drainRebalancedActors)
    {
        _byType = byType;
        ScanInterval = scanInterval;
        DrainRebalancedActors = drainRebalancedActors;
    }

    public IReadOnlyCollection<string> Types => _byType.Keys;

    /// <summary>
    /// How often idle actors are looked for. daprd ≥1.14 no longer reads <c>actorScanInterval</c>
    /// (it keeps one timer per actor); this runtime still honours it so tests can deactivate in seconds.
    /// </summary>
    public TimeSpan ScanInterval { get; }

    public bool DrainRebalancedActors { get; }

    public ActorTypeSettings For(string actorType) => _byType[actorType];

    public bool Hosts(string actorType) => _byType.ContainsKey(actorType);

    /// <exception cref="JsonException">the body is not a JSON object</exception>
    public static ActorAppConfig Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("/dapr/config must be a JSON object");
        }
        var defaults = ReadSettings(root, new ActorTypeSettings(DefaultIdleTimeout, false, DefaultMaxStackDepth, DefaultDrainOngoingCallTimeout));
        var byType = new Dictionary<string, ActorTypeSettings>(StringComparer.Ordinal);
        foreach (var type in Strings(root, "entities"))
        {
            byType[type] = defaults;
        }
        if (root.TryGetProperty("entitiesConfig", out var perType) && perType.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in perType.EnumerateArray())
            {
                var settings = ReadSettings(entry, defaults);
                foreach (var type in Strings(entry, "entities"))
                {
                    byType[type] = settings;
                }
            }
        }
        var scan = Duration(root, "actorScanInterval") ?? TimeSpan.FromSeconds(30);
        var drain = root.TryGetProperty("drainRebalancedActors", out var d) && d.ValueKind == JsonValueKind.True;
        return new ActorAppConfig(byType, scan, drain);
    }

    private static ActorTypeSettings ReadSettings(JsonElement element, ActorTypeSettings fallback)
    {
        var idle = Duration(element, "actorIdleTimeout") ?? fallback.IdleTimeout;
        var drain = Duration(element, "drainOngoingCallTimeout") ?? fallback.DrainOngoingCallTimeout;
        var enabled = fallback.ReentrancyEnabled;
        var depth = fallback.MaxStackDepth;
        if (element.TryGetProperty("reentrancy", out var reentrancy) && reentrancy.ValueKind == JsonValueKind.Object)
        {
            enabled = reentrancy.TryGetProperty("enabled", out var e) && e.ValueKind == JsonValueKind.True;
            if (reentrancy.TryGetProperty("maxStackDepth", out var m) && m.ValueKind == JsonValueKind.Number && m.TryGetInt32(out var parsed) && parsed > 0)
            {
                depth = parsed;
            }
        }
        return new ActorTypeSettings(idle, enabled, depth, drain);
    }

    private static List<string> Strings(JsonElement element, string property) =>
        element.TryGetProperty(property, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).Where(s => s.Length > 0).ToList()
            : [];

    private static TimeSpan? Duration(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
        && GoDuration.TryParse(value.GetString(), out var duration) && duration > TimeSpan.Zero
            ? duration
            : null;
}

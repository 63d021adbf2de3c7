using System.Text.Json;

namespace AgentVerse.Dapr.Actors;

/// <summary>Actor hosting settings, reported to the sidecar through <c>GET /dapr/config</c>.</summary>
public sealed class ActorRuntimeOptions
{
    private readonly Dictionary<string, Type> _actors = new(StringComparer.Ordinal);

    /// <summary>The registered actor types: Dapr type name → implementation.</summary>
    public IReadOnlyDictionary<string, Type> Actors => _actors;

    /// <summary>Registers an actor implementation; the type name defaults to the class name, as in the Dapr .NET SDK.</summary>
    public void RegisterActor<TActor>(string? actorTypeName = null)
        where TActor : Actor
    {
        _actors[actorTypeName ?? typeof(TActor).Name] = typeof(TActor);
    }

    /// <summary>How long an actor may stay unused before the sidecar deactivates it (daprd default 60 minutes).</summary>
    public TimeSpan? ActorIdleTimeout { get; set; }

    /// <summary>
    /// How often the sidecar looks for idle actors. daprd 1.14+ ignores it; the AgentVerse runtime honours it,
    /// which lets tests see deactivation within seconds.
    /// </summary>
    public TimeSpan? ActorScanInterval { get; set; }

    /// <summary>How long a rebalanced actor's ongoing call may finish (daprd default 60 s).</summary>
    public TimeSpan? DrainOngoingCallTimeout { get; set; }

    /// <summary>Whether rebalanced actors are drained before deactivation.</summary>
    public bool DrainRebalancedActors { get; set; }

    /// <summary>Reentrancy settings: off by default, as in Dapr.</summary>
    public ActorReentrancyConfig ReentrancyConfig { get; set; } = new();

    /// <summary>JSON settings for method arguments, results and state (web defaults: camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>The sidecar's HTTP endpoint; default <c>DAPR_HTTP_ENDPOINT</c>, else <c>http://127.0.0.1:{DAPR_HTTP_PORT or 3500}</c>.</summary>
    public Uri? DaprHttpEndpoint { get; set; }

    /// <summary>The sidecar's API token; default <c>DAPR_API_TOKEN</c>.</summary>
    public string? DaprApiToken { get; set; }
}

/// <summary>Actor reentrancy: a call chain may re-enter an actor that is waiting on it.</summary>
public sealed class ActorReentrancyConfig
{
    /// <summary>Whether reentrancy is on.</summary>
    public bool Enabled { get; set; }

    /// <summary>Deepest allowed chain (Dapr default 32).</summary>
    public int? MaxStackDepth { get; set; }
}

/// <summary>Settings for calling actors through the sidecar.</summary>
public sealed class ActorProxyOptions
{
    /// <summary>The sidecar's HTTP endpoint; default <c>DAPR_HTTP_ENDPOINT</c>, else <c>http://127.0.0.1:{DAPR_HTTP_PORT or 3500}</c>.</summary>
    public Uri? HttpEndpoint { get; set; }

    /// <summary>The sidecar's API token; default <c>DAPR_API_TOKEN</c>.</summary>
    public string? DaprApiToken { get; set; }

    /// <summary>JSON settings for arguments and results (web defaults: camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>Bounds each call; default 60 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    internal static Uri DefaultEndpoint() => DaprClientOptions.GetDefaultHttpEndpoint();
}

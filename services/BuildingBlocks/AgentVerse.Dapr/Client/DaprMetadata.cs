using System.Text.Json.Serialization;

namespace AgentVerse.Dapr;

/// <summary>What <c>GET /v1.0/metadata</c> tells about the sidecar: app id, components, subscriptions and more.</summary>
public sealed record DaprMetadata
{
    /// <summary>The app id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The runtime version.</summary>
    public string? RuntimeVersion { get; init; }

    /// <summary>Preview features switched on.</summary>
    public IReadOnlyList<string> EnabledFeatures { get; init; } = [];

    /// <summary>Actor types hosted and their active counts.</summary>
    public IReadOnlyList<DaprActorMetadata> Actors { get; init; } = [];

    /// <summary>Loaded components.</summary>
    public IReadOnlyList<DaprComponentMetadata> Components { get; init; } = [];

    /// <summary>Loaded HTTPEndpoint resources.</summary>
    public IReadOnlyList<DaprHttpEndpointMetadata> HttpEndpoints { get; init; } = [];

    /// <summary>Active subscriptions (programmatic and declarative).</summary>
    public IReadOnlyList<DaprSubscriptionMetadata> Subscriptions { get; init; } = [];

    /// <summary>Free-form attributes, including those set with <see cref="DaprClient.SetMetadataAsync"/>.</summary>
    public IReadOnlyDictionary<string, string> Extended { get; init; } = new Dictionary<string, string>();

    /// <summary>How the sidecar reaches the app.</summary>
    public DaprAppConnectionProperties? AppConnectionProperties { get; init; }

    /// <summary>State of the actor runtime.</summary>
    public DaprActorRuntimeMetadata? ActorRuntime { get; init; }

    /// <summary>Scheduler connection.</summary>
    public DaprSchedulerMetadata? Scheduler { get; init; }

    /// <summary>Workflow worker connection.</summary>
    public DaprWorkflowsMetadata? Workflows { get; init; }
}

/// <summary>An actor type and how many of it are active.</summary>
/// <param name="Type">Actor type.</param>
/// <param name="Count">Active actors.</param>
public sealed record DaprActorMetadata(string Type, int Count);

/// <summary>A loaded component.</summary>
/// <param name="Name">Component name.</param>
/// <param name="Type">Component type, e.g. <c>state.redis</c>.</param>
/// <param name="Version">Component version, e.g. <c>v1</c>.</param>
/// <param name="Capabilities">Features, e.g. <c>ETAG</c>, <c>TRANSACTIONAL</c>, <c>TTL</c>, <c>ACTOR</c>.</param>
public sealed record DaprComponentMetadata(string Name, string Type, string? Version, IReadOnlyList<string>? Capabilities);

/// <summary>A loaded HTTPEndpoint resource.</summary>
/// <param name="Name">Resource name.</param>
public sealed record DaprHttpEndpointMetadata(string Name);

/// <summary>An active subscription.</summary>
public sealed record DaprSubscriptionMetadata
{
    /// <summary>Pub/sub component.</summary>
    [JsonPropertyName("pubsubname")]
    public string PubsubName { get; init; } = "";

    /// <summary>Topic.</summary>
    public string Topic { get; init; } = "";

    /// <summary>Subscription metadata, e.g. <c>rawPayload</c>.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Routing rules; the one without a match is the default route.</summary>
    public IReadOnlyList<DaprSubscriptionRule>? Rules { get; init; }

    /// <summary>Dead-letter topic.</summary>
    public string? DeadLetterTopic { get; init; }

    /// <summary><c>PROGRAMMATIC</c>, <c>DECLARATIVE</c> or <c>STREAMING</c>.</summary>
    public string? Type { get; init; }
}

/// <summary>A subscription routing rule.</summary>
/// <param name="Match">CEL expression; empty for the default route.</param>
/// <param name="Path">App path events go to.</param>
public sealed record DaprSubscriptionRule(string? Match, string Path);

/// <summary>How the sidecar connects to the app.</summary>
public sealed record DaprAppConnectionProperties
{
    /// <summary>App port.</summary>
    public int Port { get; init; }

    /// <summary>App protocol, e.g. <c>http</c>.</summary>
    public string? Protocol { get; init; }

    /// <summary>App channel address.</summary>
    public string? ChannelAddress { get; init; }

    /// <summary>Max concurrent calls to the app (-1 is unlimited).</summary>
    public int MaxConcurrency { get; init; }

    /// <summary>App health checking, when enabled.</summary>
    public DaprAppHealthProperties? Health { get; init; }
}

/// <summary>App health-check settings.</summary>
public sealed record DaprAppHealthProperties
{
    /// <summary>Health path on the app.</summary>
    public string? HealthCheckPath { get; init; }

    /// <summary>Probe interval, e.g. <c>5s</c>.</summary>
    public string? HealthProbeInterval { get; init; }

    /// <summary>Probe timeout, e.g. <c>500ms</c>.</summary>
    public string? HealthProbeTimeout { get; init; }

    /// <summary>Failures before the app counts as unhealthy.</summary>
    public int HealthThreshold { get; init; }
}

/// <summary>The actor runtime's state.</summary>
public sealed record DaprActorRuntimeMetadata
{
    /// <summary><c>INITIALIZING</c>, <c>DISABLED</c> or <c>RUNNING</c>.</summary>
    public string? RuntimeStatus { get; init; }

    /// <summary>Active actors per type.</summary>
    public IReadOnlyList<DaprActorMetadata>? ActiveActors { get; init; }

    /// <summary>Whether the app hosts actors and is ready.</summary>
    public bool HostReady { get; init; }

    /// <summary>Placement connection, e.g. <c>placement: connected</c>.</summary>
    public string? Placement { get; init; }
}

/// <summary>Scheduler connection.</summary>
public sealed record DaprSchedulerMetadata
{
    /// <summary>Connected scheduler addresses.</summary>
    [JsonPropertyName("connected_addresses")]
    public IReadOnlyList<string>? ConnectedAddresses { get; init; }
}

/// <summary>Workflow workers.</summary>
public sealed record DaprWorkflowsMetadata
{
    /// <summary>Connected workflow workers.</summary>
    public int ConnectedWorkers { get; init; }
}

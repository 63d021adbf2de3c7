namespace AgentVerse.Runtime;

/// <summary>One app's sidecar, the equivalent of one <c>daprd</c> process's flags.</summary>
public sealed class SidecarOptions
{
    /// <summary>--app-id</summary>
    public required string AppId { get; init; }

    /// <summary>--dapr-http-port; 0 picks a free port.</summary>
    public int HttpPort { get; init; }

    /// <summary>--dapr-grpc-port; 0 picks a free port.</summary>
    public int GrpcPort { get; init; }

    /// <summary>--app-port; null = no app channel (no subscriptions, actors or inbound invocation).</summary>
    public int? AppPort { get; init; }

    /// <summary>--app-channel-address</summary>
    public string AppChannelAddress { get; init; } = "127.0.0.1";

    /// <summary>--resources-path (repeatable), absolute paths.</summary>
    public IReadOnlyList<string> ResourcesPaths { get; init; } = [];

    /// <summary>DAPR_API_TOKEN on daprd: required on every API call when set.</summary>
    public string? ApiToken { get; init; }

    /// <summary>APP_API_TOKEN on daprd: sent to the app on every call when set.</summary>
    public string? AppApiToken { get; init; }

    /// <summary>--max-body-size (default 4 MiB).</summary>
    public long MaxBodySize { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// How long a workflow worker may hold a work item without answering before it is given to another
    /// worker (daprd has no such limit; it only redelivers when the worker's stream drops).
    /// </summary>
    public TimeSpan WorkflowWorkItemTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

using AgentVerse.Runtime;
using Dapr.Client;

namespace AgentVerse.Testing;

/// <summary>The official SDK's clients for a sidecar of the local runtime, as an app beside it would build them.</summary>
public static class SidecarClients
{
    /// <summary>A <see cref="DaprClient"/> on the sidecar's HTTP and gRPC ports.</summary>
    public static DaprClient CreateDaprClient(this ISidecar sidecar) =>
        new DaprClientBuilder()
            .UseHttpEndpoint($"http://127.0.0.1:{sidecar.HttpPort}")
            .UseGrpcEndpoint($"http://127.0.0.1:{sidecar.GrpcPort}")
            .Build();
}

using System.Text.Json;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>The <c>actorRuntime</c> section of <c>GET /v1.0/metadata</c> (daprd 1.16 shape).</summary>
internal static class ActorsMetadata
{
    public static void WriteActorRuntime(Utf8JsonWriter json, Sidecar sidecar)
    {
        json.WriteStartObject("actorRuntime");
        // The in-process placement is always there, so the actor runtime always runs; hostReady says whether this app hosts types.
        json.WriteString("runtimeStatus", "RUNNING");
        json.WriteStartArray("activeActors");
        foreach (var (type, count) in sidecar.Actors?.ActiveCounts ?? [])
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteNumber("count", count);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteBoolean("hostReady", sidecar.Actors is not null);
        json.WriteString("placement", "placement: connected");
        json.WriteEndObject();
    }
}

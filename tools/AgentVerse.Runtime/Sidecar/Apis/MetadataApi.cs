using System.Text.Json;
using AgentVerse.Runtime.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary><c>GET /v1.0/metadata</c> in daprd's shape (pkg/api/http/metadata.go) and <c>PUT /v1.0/metadata/{key}</c>.</summary>
internal static class MetadataApi
{
    /// <summary>The daprd release whose HTTP API this runtime follows.</summary>
    public const string RuntimeVersion = "1.16.0";

    public static void MapMetadataApi(this IEndpointRouteBuilder app, Sidecar sidecar)
    {
        app.MapGet("/v1.0/metadata", async context =>
        {
            context.Response.ContentType = "application/json";
            await using var json = new Utf8JsonWriter(context.Response.Body);
            Write(json, sidecar);
            await json.FlushAsync(context.RequestAborted);
        });

        app.MapPut("/v1.0/metadata/{key}", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            sidecar.ExtendedMetadata[(string)context.Request.RouteValues["key"]!] = await reader.ReadToEndAsync(context.RequestAborted);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
    }

    private static void Write(Utf8JsonWriter json, Sidecar sidecar)
    {
        json.WriteStartObject();
        json.WriteString("id", sidecar.AppId);
        json.WriteString("runtimeVersion", RuntimeVersion);
        json.WriteStartArray("enabledFeatures");
        json.WriteEndArray();
        json.WriteStartArray("actors");
        foreach (var (type, count) in sidecar.Actors?.ActiveCounts ?? [])
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteNumber("count", count);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("components");
        foreach (var component in sidecar.Components)
        {
            json.WriteStartObject();
            json.WriteString("name", component.Definition.Name);
            json.WriteString("type", component.Definition.Type);
            json.WriteString("version", component.Definition.Version);
            json.WriteStartArray("capabilities");
            foreach (var capability in Capabilities(sidecar, component.Definition.Name))
            {
                json.WriteStringValue(capability);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("httpEndpoints");
        json.WriteEndArray();

        // daprd 1.15+: how many workflow workers hold a GetWorkItems stream.
        json.WriteStartObject("workflows");
        json.WriteNumber("connectedWorkers", sidecar.Workflows.Dispatcher.ConnectedWorkers);
        json.WriteEndObject();

        json.WriteStartArray("subscriptions");
        foreach (var subscription in sidecar.Subscriptions.Active)
        {
            json.WriteStartObject();
            json.WriteString("pubsubname", subscription.PubsubName);
            json.WriteString("topic", subscription.Topic);
            json.WriteStartObject("metadata");
            foreach (var (key, value) in subscription.Metadata)
            {
                json.WriteString(key, value);
            }
            json.WriteEndObject();
            json.WriteStartArray("rules");
            foreach (var rule in subscription.Rules)
            {
                json.WriteStartObject();
                json.WriteString("match", rule.Match);
                json.WriteString("path", rule.Path);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (subscription.DeadLetterTopic is { } deadLetter)
            {
                json.WriteString("deadLetterTopic", deadLetter);
            }
            json.WriteString("type", subscription.Declarative ? "DECLARATIVE" : "PROGRAMMATIC");
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartObject("extended");
        json.WriteString("daprRuntimeVersion", RuntimeVersion);
        foreach (var (key, value) in sidecar.ExtendedMetadata)
        {
            json.WriteString(key, value);
        }
        json.WriteEndObject();

        json.WriteStartObject("appConnectionProperties");
        if (sidecar.App is { } app)
        {
            json.WriteNumber("port", app.Port);
            json.WriteString("protocol", "http");
            json.WriteString("channelAddress", app.Address);
        }
        json.WriteEndObject();

        ActorsMetadata.WriteActorRuntime(json, sidecar);
        json.WriteEndObject();
    }

    internal static IEnumerable<string> Capabilities(Sidecar sidecar, string componentName)
    {
        if (sidecar.StateStores.TryGetValue(componentName, out var state))
        {
            var features = state.Store.Features;
            if (features.HasFlag(StateStoreFeatures.ETag)) yield return "ETAG";
            if (features.HasFlag(StateStoreFeatures.Transactional)) yield return "TRANSACTIONAL";
            if (features.HasFlag(StateStoreFeatures.QueryApi)) yield return "QUERY_API";
            if (features.HasFlag(StateStoreFeatures.Ttl)) yield return "TTL";
            if (features.HasFlag(StateStoreFeatures.DeleteWithPrefix)) yield return "DELETE_WITH_PREFIX";
            if (state.IsActorStateStore) yield return "ACTOR";
        }
        else if (sidecar.PubSubs.ContainsKey(componentName))
        {
            yield return "SUBSCRIBE_WILDCARDS";
        }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Dapr;

/// <summary>Serves Dapr's programmatic subscription discovery.</summary>
public static class SubscribeHandlerEndpointRouteBuilderExtensions
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// Maps <c>GET /dapr/subscribe</c>, listing every endpoint subscribed with
    /// <see cref="TopicEndpointConventionBuilderExtensions.WithTopic"/> or <see cref="TopicAttribute"/>. A topic whose
    /// endpoints use <c>match</c> is listed in the v2 shape (<c>routes: {rules, default}</c>), others with v1 <c>route</c>.
    /// Endpoints are read on each request, so ones mapped after this call are included.
    /// </summary>
    public static IEndpointConventionBuilder MapSubscribeHandler(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGet("/dapr/subscribe", (ILoggerFactory loggers) =>
                TypedResults.Json(BuildSubscriptions(endpoints, loggers.CreateLogger(typeof(SubscribeHandlerEndpointRouteBuilderExtensions))), JsonOptions))
            .ExcludeFromDescription();
    }

    private static List<Subscription> BuildSubscriptions(IEndpointRouteBuilder endpoints, ILogger logger)
    {
        var topicEndpoints = new List<(ITopicMetadata Topic, string Path)>();
        foreach (var endpoint in endpoints.DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>())
        {
            foreach (var topic in endpoint.Metadata.GetOrderedMetadata<ITopicMetadata>())
            {
                // Dapr posts to the path literally, so a route parameter could never bind (same rule as the official SDK).
                if (endpoint.RoutePattern.Parameters.Count > 0)
                {
                    logger.LogWarning(
                        "Topic {Topic} on {PubsubName} is not subscribed: its route {Route} has parameters",
                        topic.Name, topic.PubsubName, endpoint.RoutePattern.RawText);
                    continue;
                }

                topicEndpoints.Add((topic, "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/')));
            }
        }

        var subscriptions = new List<Subscription>();
        foreach (var group in topicEndpoints.GroupBy(e => (e.Topic.PubsubName, e.Topic.Name)))
        {
            var defaults = group.Where(e => string.IsNullOrEmpty(e.Topic.Match)).Select(e => e.Path).Distinct().ToList();
            if (defaults.Count > 1)
            {
                throw new InvalidOperationException(
                    $"Topic '{group.Key.Name}' on '{group.Key.PubsubName}' has several default routes ({string.Join(", ", defaults)}); give all but one a match expression.");
            }

            var rules = group.Where(e => !string.IsNullOrEmpty(e.Topic.Match))
                .OrderBy(e => e.Topic.Priority)
                .Select(e => new Rule(e.Topic.Match!, e.Path))
                .ToList();
            var metadata = group.SelectMany(e => e.Topic.Metadata)
                .GroupBy(kv => kv.Key)
                .ToDictionary(kv => kv.Key, kv => kv.First().Value);

            subscriptions.Add(new Subscription(
                group.Key.PubsubName,
                group.Key.Name,
                Route: rules.Count == 0 ? defaults.Single() : null,
                Routes: rules.Count == 0 ? null : new Routes(rules, defaults.SingleOrDefault()),
                DeadLetterTopic: group.Select(e => e.Topic.DeadLetterTopic).FirstOrDefault(d => !string.IsNullOrEmpty(d)),
                Metadata: metadata.Count == 0 ? null : metadata));
        }

        return subscriptions;
    }

    private sealed record Subscription(
        [property: JsonPropertyName("pubsubname")] string PubsubName,
        string Topic,
        string? Route,
        Routes? Routes,
        string? DeadLetterTopic,
        IReadOnlyDictionary<string, string>? Metadata);

    private sealed record Routes(IReadOnlyList<Rule> Rules, string? Default);

    private sealed record Rule(string Match, string Path);
}

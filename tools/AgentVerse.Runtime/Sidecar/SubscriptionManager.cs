using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.PubSub;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>A subscription in force for one app: where its messages come from and how they are routed.</summary>
internal sealed record ActiveSubscription(
    string PubsubName,
    string Topic,
    IReadOnlyList<RouteRule> Rules,
    string? DefaultRoute,
    string? DeadLetterTopic,
    IReadOnlyDictionary<string, string> Metadata,
    bool Declarative)
{
    public IReadOnlyList<(RouteExpression Expression, string Path)> CompiledRules { get; init; } = [];

    public bool RawPayload => string.Equals(Metadata.GetValueOrDefault("rawPayload"), "true", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Discovers an app's subscriptions (programmatic <c>GET /dapr/subscribe</c> and declarative YAML) and
/// delivers messages to it the way daprd does (pkg/runtime/subscription): CloudEvent POST, response
/// status mapping, inbound resiliency retries, dead-letter topic, then component-level redelivery.
/// </summary>
internal sealed class SubscriptionManager(Sidecar sidecar, IReadOnlyList<SubscriptionDefinition> declarative) : IAsyncDisposable
{
    // components-contrib pubsub/in-memory retries a failed handler 10 times, 100 ms apart.
    private const int InMemoryComponentAttempts = 10;
    private static readonly TimeSpan InMemoryRedeliveryDelay = TimeSpan.FromMilliseconds(100);
    private const int MaxResponseBytes = 64 * 1024;

    private readonly List<IAsyncDisposable> _consumers = [];
    private readonly List<ActiveSubscription> _active = [];

    public IReadOnlyList<ActiveSubscription> Active => _active;

    private enum Outcome { Success, Retry, Drop, NotFound }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (sidecar.App is null)
        {
            return; // no app channel, nothing to deliver to (daprd without --app-port)
        }
        var found = new List<ActiveSubscription>();
        found.AddRange(declarative.Select(d => new ActiveSubscription(d.PubsubName, d.Topic, d.Rules, d.DefaultRoute, d.DeadLetterTopic, d.Metadata, Declarative: true)));
        found.AddRange(await DiscoverProgrammaticAsync(cancellationToken));

        foreach (var candidate in found)
        {
            if (!sidecar.PubSubs.TryGetValue(candidate.PubsubName, out var component))
            {
                sidecar.Logger.LogWarning("Subscription to topic {Topic} names pubsub {PubSub}, which is not loaded for app {AppId}", candidate.Topic, candidate.PubsubName, sidecar.AppId);
                continue;
            }
            ActiveSubscription subscription;
            try
            {
                subscription = candidate with { CompiledRules = [.. candidate.Rules.Select(r => (RouteExpression.Parse(r.Match), r.Path))] };
            }
            catch (FormatException e)
            {
                sidecar.Logger.LogError("Subscription to topic {Topic} is ignored: {Error}", candidate.Topic, e.Message);
                continue;
            }
            var policy = DeliveryPolicy.ForComponent(candidate.PubsubName, sidecar.AppId, sidecar.Options.ResourcesPaths);
            var consumerGroup = component.Definition.Get("consumerID") is { Length: > 0 } consumerId ? consumerId : sidecar.AppId;
            var componentAttempts = component.Definition.Type == "pubsub.in-memory" ? InMemoryComponentAttempts : 1;
            _consumers.Add(component.PubSub!.Subscribe(subscription.Topic, consumerGroup,
                (message, ct) => HandleAsync(subscription, component.PubSub!, policy, componentAttempts, message, ct)));
            _active.Add(subscription);
            sidecar.Logger.LogInformation("App {AppId} subscribed to {PubSub}/{Topic}", sidecar.AppId, subscription.PubsubName, subscription.Topic);
        }
    }

    private async Task<IReadOnlyList<ActiveSubscription>> DiscoverProgrammaticAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "dapr/subscribe");
        HttpResponseMessage response;
        try
        {
            response = await sidecar.App!.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            sidecar.Logger.LogWarning("App {AppId}: GET /dapr/subscribe failed: {Error}", sidecar.AppId, e.Message);
            return [];
        }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return [];
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                sidecar.Logger.LogError("App {AppId}: GET /dapr/subscribe answered {Status}; no programmatic subscriptions", sidecar.AppId, (int)response.StatusCode);
                return [];
            }
            try
            {
                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                return document.RootElement.ValueKind == JsonValueKind.Array
                    ? [.. document.RootElement.EnumerateArray().Select(ParseProgrammatic).OfType<ActiveSubscription>()]
                    : [];
            }
            catch (JsonException e)
            {
                sidecar.Logger.LogError("App {AppId}: /dapr/subscribe returned invalid JSON: {Error}", sidecar.AppId, e.Message);
                return [];
            }
        }
    }

    // v1 items carry "route"; v2 carry "routes": {rules, default}; "default" wins over "route" (daprd).
    // Keys match as Go's encoding/json matches them, case-insensitively: the .NET SDK writes "pubsubName", the JS SDK "pubsubname".
    private ActiveSubscription? ParseProgrammatic(JsonElement item)
    {
        static string? Str(JsonElement e, string name) => GoJson.Property(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
        var pubsub = Str(item, "pubsubname");
        var topic = Str(item, "topic");
        if (string.IsNullOrEmpty(pubsub) || string.IsNullOrEmpty(topic))
        {
            return null;
        }
        var rules = new List<RouteRule>();
        string? defaultRoute = Str(item, "route");
        if (GoJson.Property(item, "routes") is { ValueKind: JsonValueKind.Object } routes)
        {
            defaultRoute = Str(routes, "default") ?? defaultRoute;
            if (GoJson.Property(routes, "rules") is { ValueKind: JsonValueKind.Array } ruleList)
            {
                rules.AddRange(ruleList.EnumerateArray().Where(r => Str(r, "path") is not null).Select(r => new RouteRule(Str(r, "match") ?? "", Str(r, "path")!)));
            }
        }
        if (rules.Count == 0 && string.IsNullOrEmpty(defaultRoute))
        {
            sidecar.Logger.LogWarning("App {AppId}: subscription to {Topic} has no route and is dropped", sidecar.AppId, topic);
            return null;
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (GoJson.Property(item, "metadata") is { ValueKind: JsonValueKind.Object } m)
        {
            foreach (var p in m.EnumerateObject())
            {
                metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
        }
        var deadLetter = Str(item, "deadLetterTopic");
        return new ActiveSubscription(pubsub, topic, rules, defaultRoute, string.IsNullOrEmpty(deadLetter) ? null : deadLetter, metadata, Declarative: false);
    }

    private async Task HandleAsync(ActiveSubscription subscription, IPubSub pubsub, DeliveryPolicy policy, int componentAttempts, BrokerMessage message, CancellationToken cancellationToken)
    {
        byte[] body;
        JsonDocument cloudEvent;
        try
        {
            body = subscription.RawPayload ? CloudEvents.FromRawPayload(message.Data.Span, subscription.Topic, subscription.PubsubName) : message.Data.ToArray();
            cloudEvent = JsonDocument.Parse(body);
            if (cloudEvent.RootElement.ValueKind != JsonValueKind.Object)
            {
                cloudEvent.Dispose();
                throw new JsonException("not a JSON object");
            }
        }
        catch (JsonException e)
        {
            sidecar.Logger.LogWarning("App {AppId}: message on {Topic} is not a CloudEvent: {Error}", sidecar.AppId, subscription.Topic, e.Message);
            await DeadLetterOrDropAsync(subscription, pubsub, message, "unparsable CloudEvent", cancellationToken);
            return;
        }

        using (cloudEvent)
        {
            var root = cloudEvent.RootElement;
            if (root.TryGetProperty("expiration", out var expiration) && expiration.TryGetDateTimeOffset(out var expiresAt) && expiresAt < DateTimeOffset.UtcNow)
            {
                await DeadLetterOrDropAsync(subscription, pubsub, message, "message expired", cancellationToken);
                return;
            }
            var path = Route(subscription, root);
            if (path is null)
            {
                await DeadLetterOrDropAsync(subscription, pubsub, message, "no routing rule matched", cancellationToken);
                return;
            }

            var traceParent = root.TryGetProperty("traceparent", out var tp) && tp.ValueKind == JsonValueKind.String ? tp.GetString() : null;
            var traceState = root.TryGetProperty("tracestate", out var ts) && ts.ValueKind == JsonValueKind.String ? ts.GetString() : null;
            var trace = TraceContext.TryParse(traceParent, traceState, out var parent) ? parent.NewChild()
                : new TraceContext(System.Diagnostics.ActivityTraceId.CreateRandom(), System.Diagnostics.ActivitySpanId.CreateRandom(), System.Diagnostics.ActivityTraceFlags.Recorded, null);

            for (var attempt = 1; ; attempt++)
            {
                var outcome = await DeliverWithPolicyAsync(subscription, policy, path, body, trace, cancellationToken);
                switch (outcome)
                {
                    case Outcome.Success:
                        return;
                    case Outcome.NotFound:
                        sidecar.Logger.LogWarning("App {AppId} answered 404 for {Path}; message on {Topic} dropped", sidecar.AppId, path, subscription.Topic);
                        return;
                    case Outcome.Drop:
                        await DeadLetterOrDropAsync(subscription, pubsub, message, "app returned DROP", cancellationToken);
                        return;
                }
                // Failed after the inbound policy: a dead-letter topic takes it now; otherwise the component redelivers.
                if (subscription.DeadLetterTopic is not null)
                {
                    await DeadLetterOrDropAsync(subscription, pubsub, message, "delivery failed", cancellationToken);
                    return;
                }
                if (attempt >= componentAttempts)
                {
                    sidecar.Logger.LogError("App {AppId}: message on {Topic} could not be delivered after {Attempts} attempts and is dropped", sidecar.AppId, subscription.Topic, attempt);
                    return;
                }
                await Task.Delay(InMemoryRedeliveryDelay, cancellationToken);
            }
        }
    }

    private static string? Route(ActiveSubscription subscription, JsonElement cloudEvent)
    {
        foreach (var (expression, path) in subscription.CompiledRules)
        {
            if (expression.Matches(cloudEvent))
            {
                return path;
            }
        }
        return subscription.DefaultRoute;
    }

    private async Task<Outcome> DeliverWithPolicyAsync(ActiveSubscription subscription, DeliveryPolicy policy, string path, byte[] body, TraceContext trace, CancellationToken cancellationToken)
    {
        for (var retries = 0; ; retries++)
        {
            var outcome = await DeliverOnceAsync(subscription, policy.Timeout, path, body, trace, cancellationToken);
            if (outcome != Outcome.Retry || policy.Retry is not { } retry || !retry.CanRetry(retries))
            {
                return outcome;
            }
            await Task.Delay(retry.Delay(retries), cancellationToken);
        }
    }

    private async Task<Outcome> DeliverOnceAsync(ActiveSubscription subscription, TimeSpan? timeout, string path, byte[] body, TraceContext trace, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } t)
        {
            attempt.CancelAfter(t);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/'))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(CloudEvents.ContentType);
        request.Headers.TryAddWithoutValidation("pubsubname", subscription.PubsubName);
        request.Headers.TryAddWithoutValidation("traceparent", trace.TraceParent);
        if (trace.TraceState is not null)
        {
            request.Headers.TryAddWithoutValidation("tracestate", trace.TraceState);
        }
        try
        {
            using var response = await sidecar.App!.SendAsync(request, attempt.Token);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return Outcome.NotFound;
            }
            if (!response.IsSuccessStatusCode)
            {
                sidecar.Logger.LogWarning("App {AppId} answered {Status} for {Topic}; retrying", sidecar.AppId, (int)response.StatusCode, subscription.Topic);
                return Outcome.Retry;
            }
            return await ReadStatusAsync(response, attempt.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            sidecar.Logger.LogWarning("Delivery to app {AppId} for {Topic} failed: {Error}", sidecar.AppId, subscription.Topic, e.Message);
            return Outcome.Retry;
        }
    }

    // daprd: empty or non-JSON 2xx body = SUCCESS; {"status": SUCCESS|RETRY|DROP}; unknown status = RETRY.
    private static async Task<Outcome> ReadStatusAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var bytes = await ReadBoundedAsync(response, cancellationToken);
        if (bytes.Length == 0)
        {
            return Outcome.Success;
        }
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (GoJson.Property(document.RootElement, "status") is not { ValueKind: JsonValueKind.String } status)
            {
                return Outcome.Success;
            }
            return status.GetString()!.ToUpperInvariant() switch
            {
                "" or "SUCCESS" => Outcome.Success,
                "DROP" => Outcome.Drop,
                _ => Outcome.Retry,
            };
        }
        catch (JsonException)
        {
            return Outcome.Success;
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxResponseBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }
        return buffer[..total];
    }

    // The dead-letter copy is the original message, not re-wrapped (daprd sendToDeadLetter).
    private async Task DeadLetterOrDropAsync(ActiveSubscription subscription, IPubSub pubsub, BrokerMessage message, string reason, CancellationToken cancellationToken)
    {
        if (subscription.DeadLetterTopic is not { } deadLetterTopic)
        {
            sidecar.Logger.LogWarning("App {AppId}: message on {Topic} dropped ({Reason})", sidecar.AppId, subscription.Topic, reason);
            return;
        }
        try
        {
            await pubsub.PublishAsync(deadLetterTopic, message, cancellationToken);
            sidecar.Logger.LogInformation("App {AppId}: message on {Topic} sent to dead-letter topic {DeadLetterTopic} ({Reason})", sidecar.AppId, subscription.Topic, deadLetterTopic, reason);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            sidecar.Logger.LogError(e, "App {AppId}: could not publish to dead-letter topic {DeadLetterTopic}", sidecar.AppId, deadLetterTopic);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var consumer in _consumers)
        {
            await consumer.DisposeAsync();
        }
        _consumers.Clear();
    }
}

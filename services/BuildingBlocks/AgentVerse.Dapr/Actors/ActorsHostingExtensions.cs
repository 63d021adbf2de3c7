using System.Text.Json;
using AgentVerse.Dapr.Actors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers actor hosting (the counterpart of the Dapr .NET SDK's <c>AddActors</c>).</summary>
public static class ActorsServiceCollectionExtensions
{
    /// <summary>Registers the actor runtime and an <see cref="ActorProxyFactory"/>; configure actor types in <paramref name="configure"/>.</summary>
    public static IServiceCollection AddActors(this IServiceCollection services, Action<ActorRuntimeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ActorRuntimeOptions>().Configure(configure);
        services.AddSingleton<ActorRuntime>();
        services.AddSingleton(sp =>
        {
            var runtime = sp.GetRequiredService<ActorRuntime>().Options;
            return new ActorProxyFactory(new ActorProxyOptions
            {
                HttpEndpoint = runtime.DaprHttpEndpoint,
                DaprApiToken = runtime.DaprApiToken,
                JsonSerializerOptions = runtime.JsonSerializerOptions,
            });
        });
        return services;
    }
}

/// <summary>Maps the endpoints the sidecar calls on an actor host.</summary>
public static class ActorsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET /dapr/config</c>, <c>PUT /actors/{type}/{id}/method/{method}</c> (and <c>remind/{name}</c>,
    /// <c>timer/{name}</c>), <c>DELETE /actors/{type}/{id}</c> and <c>GET /healthz</c>. Callbacks answer 200 on
    /// success, 404 for an unknown type or method, 500 when the actor throws.
    /// </summary>
    public static IEndpointConventionBuilder MapActorsHandlers(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var runtime = endpoints.ServiceProvider.GetRequiredService<ActorRuntime>();
        var group = endpoints.MapGroup("");
        group.MapGet("/dapr/config", context => WriteConfigAsync(context, runtime.Options));
        group.MapPut("/actors/{actorType}/{actorId}/method/remind/{reminderName}", context => DispatchAsync(context, runtime, Callback.Reminder));
        group.MapPut("/actors/{actorType}/{actorId}/method/timer/{timerName}", context => DispatchAsync(context, runtime, Callback.Timer));
        group.MapPut("/actors/{actorType}/{actorId}/method/{methodName}", context => DispatchAsync(context, runtime, Callback.Method));
        group.MapDelete("/actors/{actorType}/{actorId}", async context =>
        {
            var type = Route(context, "actorType");
            if (!runtime.Hosts(type))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            await runtime.DeactivateAsync(type, Route(context, "actorId"));
            context.Response.StatusCode = StatusCodes.Status200OK;
        });
        group.MapGet("/healthz", context =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        });
        return group;
    }

    private static string Route(HttpContext context, string name) => (string)context.Request.RouteValues[name]!;

    private enum Callback
    {
        Method,
        Reminder,
        Timer,
    }

    private static async Task DispatchAsync(HttpContext context, ActorRuntime runtime, Callback callback)
    {
        var type = Route(context, "actorType");
        if (!runtime.Hosts(type))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync($"actor type {type} is not registered", context.RequestAborted);
            return;
        }
        var id = Route(context, "actorId");
        var request = context.Request;
        var (status, body) = callback switch
        {
            Callback.Reminder => await runtime.ReceiveReminderAsync(type, id, Route(context, "reminderName"), request.Body, context.RequestAborted),
            Callback.Timer => await runtime.ReceiveTimerAsync(type, id, request.Body, context.RequestAborted),
            _ => await runtime.InvokeMethodAsync(type, id, Route(context, "methodName"), request.Body,
                request.Headers["Dapr-Reentrancy-Id"].ToString() is { Length: > 0 } chain ? chain : null, context.RequestAborted),
        };
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static async Task WriteConfigAsync(HttpContext context, ActorRuntimeOptions options)
    {
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteStartArray("entities");
        foreach (var type in options.Actors.Keys)
        {
            json.WriteStringValue(type);
        }
        json.WriteEndArray();
        if (options.ActorIdleTimeout is { } idle) json.WriteString("actorIdleTimeout", ActorDurations.Format(idle));
        if (options.ActorScanInterval is { } scan) json.WriteString("actorScanInterval", ActorDurations.Format(scan));
        if (options.DrainOngoingCallTimeout is { } drain) json.WriteString("drainOngoingCallTimeout", ActorDurations.Format(drain));
        json.WriteBoolean("drainRebalancedActors", options.DrainRebalancedActors);
        json.WriteStartObject("reentrancy");
        json.WriteBoolean("enabled", options.ReentrancyConfig.Enabled);
        if (options.ReentrancyConfig.MaxStackDepth is { } depth)
        {
            json.WriteNumber("maxStackDepth", depth);
        }
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}

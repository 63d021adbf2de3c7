using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>daprd's health probes and shutdown.</summary>
internal static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder app, Sidecar sidecar)
    {
        // Ready once the app channel is up and subscriptions are loaded.
        app.MapGet("/v1.0/healthz", context =>
        {
            var appId = context.Request.Query["appid"].ToString();
            if (appId.Length > 0 && appId != sidecar.AppId)
            {
                return new DaprError(500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match").WriteAsync(context.Response);
            }
            if (!sidecar.AppReady.IsCompletedSuccessfully)
            {
                return new DaprError(500, "ERR_HEALTH_NOT_READY", "dapr is not ready").WriteAsync(context.Response);
            }
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });

        // Components are loaded before the sidecar listens, so outbound is ready whenever we answer at all.
        app.MapGet("/v1.0/healthz/outbound", context =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });

        app.MapPost("/v1.0/shutdown", context =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            sidecar.Runtime.RequestShutdown(sidecar.AppId);
            return Task.CompletedTask;
        });
    }
}

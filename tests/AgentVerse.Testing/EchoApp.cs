using System.Security.Claims;
using AgentVerse.Runtime;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Testing;

/// <summary>
/// A downstream service built like the real ones (<c>AddServiceDefaults</c>: zero-trust token validation) that
/// echoes what it received, streams server-sent events on cue and answers slowly on request. Registered under a
/// routed app id (<c>rag</c>), so the gateway reaches it through the runtime.
/// </summary>
public sealed class EchoApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoApp(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The app's own port, to reach it straight rather than through the gateway.</summary>
    public int Port { get; }

    /// <summary>Released by a test to let the SSE endpoint send its second event.</summary>
    public SemaphoreSlim NextEvent { get; } = new(0);

    public static async Task<EchoApp> StartAsync(string appId, int port, ISidecar sidecar)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["APP_ID"] = appId,
            ["DAPR_HTTP_PORT"] = sidecar.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["DAPR_GRPC_PORT"] = sidecar.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.AddServiceDefaults();
        builder.Logging.ClearProviders();

        var app = builder.Build();
        var echo = new EchoApp(app, port);
        app.MapDefaultEndpoints();
        // As a service with subscriptions of its own might: must not clash with the one the defaults map.
        app.MapSubscribeHandler();

        var api = app.MapGroup($"/api/v1/{appId}").RequireAuthorization(AgentVersePolicies.Viewer);
        api.MapGet("/ping", () => TypedResults.Ok("pong"));
        api.MapMethods("/echo", ["GET", "POST", "PUT", "DELETE"], async (HttpContext context, ClaimsPrincipal user) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            return TypedResults.Ok(new EchoResponse(
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                user.FindFirstValue(AgentVerseClaims.Subject),
                user.FindFirstValue(AgentVerseClaims.Role),
                body));
        });
        api.MapGet("/stream", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            // The second event waits for the test: it must have read the first one already.
            await echo.NextEvent.WaitAsync(TimeSpan.FromSeconds(20), context.RequestAborted);
            await context.Response.WriteAsync("data: second\n\n", context.RequestAborted);
        });
        // A bare RequireAuthorization(): the default policy, under which viewers are read-only too.
        app.MapPost($"/api/v1/{appId}/default-policy", () => TypedResults.Ok()).RequireAuthorization();
        api.MapGet("/slow", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            return TypedResults.Ok("late");
        });

        await app.StartAsync();
        return echo;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        NextEvent.Dispose();
    }
}

public sealed record EchoResponse(string Method, string Path, Dictionary<string, string> Headers, string? UserId, string? Role, string Body);

using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AgentVerse.Runtime;
using AgentVerse.Runtime.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Testing;

/// <summary>
/// The gateway (which issues the tokens) and the tools service as real processes from their build output, each
/// with a sidecar of one <see cref="LocalRuntime"/> (in-memory state and pub/sub, a local-file secret store
/// holding the tools service's API-key encryption key), plus an in-process <see cref="TargetServer"/> on
/// loopback that the tools service may reach only because configuration allow-lists its endpoint.
/// </summary>
public sealed class ToolsRun : IAsyncDisposable
{
    public const string Password = "correct-horse-battery-9";

    private ToolsRun(string directory, LocalRuntime runtime)
    {
        Directory = directory;
        Runtime = runtime;
    }

    public string Directory { get; }

    public LocalRuntime Runtime { get; }

    public ServiceProcess Gateway { get; private set; } = null!;

    public ServiceProcess Tools { get; private set; } = null!;

    public TargetServer Target { get; private set; } = null!;

    public static async Task<ToolsRun> StartAsync(IReadOnlyDictionary<string, string>? toolsSettings = null, string? configuration = null)
    {
        var directory = TempDirectory.Create("agentverse-tools-tests");
        await ResourcesDirectory.WriteServiceComponentsAsync(directory, PlatformSecrets.Generate().ToJsonString());

        var gatewayPort = LoopbackPorts.Take();
        var toolsPort = LoopbackPorts.Take();
        var runtime = await LocalRuntime.StartAsync(
            [
                new SidecarOptions { AppId = "gateway", AppPort = gatewayPort, ResourcesPaths = [directory] },
                new SidecarOptions { AppId = "tools", AppPort = toolsPort, ResourcesPaths = [directory] },
            ],
            NullLoggerFactory.Instance, CancellationToken.None);
        var run = new ToolsRun(directory, runtime);
        try
        {
            run.Target = await TargetServer.StartAsync();
            run.Gateway = await ServiceProcess.StartAsync("Gateway", gatewayPort, new Dictionary<string, string>
            {
                ["APP_ID"] = "gateway",
                ["DAPR_HTTP_PORT"] = Port(runtime["gateway"].HttpPort),
                ["DAPR_GRPC_PORT"] = Port(runtime["gateway"].GrpcPort),
                ["Gateway__RateLimits__PerUserBurst"] = "1000000",
                ["Gateway__RateLimits__PerUserRequestsPerSecond"] = "1000000",
                ["Gateway__RateLimits__PerIpRequests"] = "1000000",
                ["Logging__LogLevel__Default"] = "Warning",
            }, configuration);
            var toolsEnvironment = new Dictionary<string, string>
            {
                ["APP_ID"] = "tools",
                ["DAPR_HTTP_PORT"] = Port(runtime["tools"].HttpPort),
                ["DAPR_GRPC_PORT"] = Port(runtime["tools"].GrpcPort),
                ["Tools__Http__AllowedEndpoints__0"] = $"127.0.0.1:{run.Target.Port}",
                ["Logging__LogLevel__Default"] = "Warning",
            };
            foreach (var (key, value) in toolsSettings ?? new Dictionary<string, string>())
            {
                toolsEnvironment[key] = value;
            }

            run.Tools = await ServiceProcess.StartAsync("Tools", toolsPort, toolsEnvironment, configuration);
            using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Task.WhenAll(runtime.Sidecars.Select(s => s.AppReady.WaitAsync(ready.Token)));
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>A new account, logged in through the gateway: its access token and user id.</summary>
    public async Task<User> NewUserAsync()
    {
        var email = $"u-{Guid.NewGuid():N}@example.com";
        using (var registered = await Gateway.Client.PostAsJsonAsync("/api/auth/register", new { email, password = Password, firstName = "Ada", lastName = "Lovelace" }))
        {
            registered.EnsureSuccessStatusCode();
        }

        using var login = await Gateway.Client.PostAsJsonAsync("/api/auth/login", new { email, password = Password });
        login.EnsureSuccessStatusCode();
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        return new User(body.GetProperty("token").GetString()!, body.GetProperty("user").GetProperty("id").GetString()!, body.GetProperty("user").GetProperty("role").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        if (Tools is not null)
        {
            await Tools.DisposeAsync();
        }

        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Target is not null)
        {
            await Target.DisposeAsync();
        }

        await Runtime.DisposeAsync();
        TempDirectory.Delete(Directory);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

public sealed record User(string Token, string Id, string Role)
{
    public HttpRequestMessage Request(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }
}

/// <summary>
/// A loopback HTTP server standing in for the outside world: <c>/echo</c> (what it received), <c>/slow</c>,
/// <c>/big</c>, <c>/redirect?to=</c> and <c>/json</c>. It records every request's headers.
/// </summary>
public sealed class TargetServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TargetServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public ConcurrentQueue<Dictionary<string, string>> ReceivedHeaders { get; } = new();

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}{path}");

    public static async Task<TargetServer> StartAsync(int? port = null)
    {
        var actualPort = port ?? LoopbackPorts.Take();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls($"http://127.0.0.1:{actualPort}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new TargetServer(app, actualPort);
        app.Use(async (context, next) =>
        {
            server.ReceivedHeaders.Enqueue(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
            await next(context);
        });
        app.MapMethods("/echo", ["GET", "POST", "PUT"], async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            return Results.Json(new
            {
                method = context.Request.Method,
                query = context.Request.QueryString.Value,
                body,
                headerNames = context.Request.Headers.Keys.Order(StringComparer.OrdinalIgnoreCase).ToArray(),
            });
        });
        // Echoes the X-API-Key back, as a careless endpoint might.
        app.MapPost("/leaky", (HttpContext context) => Results.Json(new { youSent = context.Request.Headers["X-API-Key"].ToString(), ok = true }));
        app.MapGet("/slow", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(20), cancellationToken);
            return Results.Text("late");
        });
        app.MapGet("/big", () => Results.Text(new string('x', 2 * 1024 * 1024)));
        app.MapGet("/redirect", (string to) => Results.Redirect(to));
        app.MapGet("/json", () => Results.Json(new { items = new[] { new { name = "a" }, new { name = "b" } } }));
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

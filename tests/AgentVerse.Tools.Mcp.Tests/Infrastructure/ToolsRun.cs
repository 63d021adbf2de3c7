using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentVerse.Gateway.Tests.Infrastructure;
using AgentVerse.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Tools.Mcp.Tests.Infrastructure;

/// <summary>
/// The gateway (which issues the tokens and serves the JWKS) and the tools service as real processes, each with
/// its own sidecar of one <see cref="LocalRuntime"/>: in-memory state and pub/sub and a local-file secret store.
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

    /// <summary>The first account, which is the admin.</summary>
    public Account Admin { get; private set; } = null!;

    /// <summary>Starts both; <paramref name="toolsSettings"/> are extra environment variables of the tools service.</summary>
    /// <summary>The key that encrypts stored API keys, as the secret store holds it.</summary>
    public const string ApiKeyEncryptionSecret = "tools-api-key-encryption-key";

    public static async Task<ToolsRun> StartAsync(IReadOnlyDictionary<string, string>? toolsSettings = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "agentverse-mcp-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var secretsFile = Path.Combine(directory, "secrets.json");
        await File.WriteAllTextAsync(secretsFile, $$"""{"{{ApiKeyEncryptionSecret}}": "{{Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}}"}""");
        await File.WriteAllTextAsync(Path.Combine(directory, "components.yaml"), $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.in-memory
              version: v1
              metadata: []
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
              metadata: []
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: secretstore
            spec:
              type: secretstores.local.file
              version: v1
              metadata:
              - name: secretsFile
                value: "{secretsFile}"
            """);

        var ports = new Dictionary<string, int> { ["gateway"] = ServiceProcess.FreeTcpPort(), ["tools"] = ServiceProcess.FreeTcpPort() };
        var runtime = await LocalRuntime.StartAsync(
            [.. ports.Select(p => new SidecarOptions { AppId = p.Key, AppPort = p.Value, ResourcesPaths = [directory] })],
            LoggerFactory(), CancellationToken.None);
        var run = new ToolsRun(directory, runtime);
        try
        {
            var toolsEnvironment = new Dictionary<string, string>
            {
                ["APP_ID"] = "tools",
                ["DAPR_HTTP_PORT"] = Port(runtime["tools"].HttpPort),
                ["Logging__LogLevel__Default"] = "Warning",
            };
            foreach (var (key, value) in toolsSettings ?? new Dictionary<string, string>())
            {
                toolsEnvironment[key] = value;
            }

            var starting = new[]
            {
                ServiceProcess.StartAsync("Gateway", ports["gateway"], new Dictionary<string, string>
                {
                    ["APP_ID"] = "gateway",
                    ["DAPR_HTTP_PORT"] = Port(runtime["gateway"].HttpPort),
                    ["Gateway__LocalSecretsFile"] = secretsFile,
                    ["Gateway__RateLimits__PerUserBurst"] = "100000",
                    ["Gateway__RateLimits__PerUserRequestsPerSecond"] = "100000",
                    ["Gateway__RateLimits__PerIpRequests"] = "100000",
                    ["Logging__LogLevel__Default"] = "Warning",
                }),
                ServiceProcess.StartAsync("Tools", ports["tools"], toolsEnvironment),
            };
            try
            {
                var started = await Task.WhenAll(starting);
                run.Gateway = started[0];
                run.Tools = started[1];
            }
            catch
            {
                foreach (var task in starting.Where(t => t.IsCompletedSuccessfully))
                {
                    await task.Result.DisposeAsync();
                }

                throw;
            }

            using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Task.WhenAll(runtime.Sidecars.Select(s => s.AppReady.WaitAsync(ready.Token)));
            run.Admin = await run.NewAccountAsync();
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Registers and logs in a new account (the first one is the admin); another <paramref name="role"/> than
    /// <c>user</c> is set by the admin, and the account logs in again to carry it.
    /// </summary>
    public async Task<Account> NewAccountAsync(string role = "user")
    {
        var email = $"u-{Guid.NewGuid():N}@example.com";
        using (var registered = await Gateway.Client.PostAsJsonAsync("/api/auth/register", new { email, password = Password, firstName = "Ada", lastName = "Lovelace" }))
        {
            Assert.True(registered.IsSuccessStatusCode, $"register: {(int)registered.StatusCode} {await registered.Content.ReadAsStringAsync()}");
        }

        var account = await LoginAsync(email);
        if (Admin is not null && role != account.Role)
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/users/{account.UserId}") { Content = JsonContent.Create(new { role }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Admin.Token);
            using var patched = await Gateway.Client.SendAsync(request);
            Assert.True(patched.StatusCode == HttpStatusCode.OK, $"role: {(int)patched.StatusCode} {await patched.Content.ReadAsStringAsync()}");
            account = await LoginAsync(email);
        }

        return account;
    }

    private async Task<Account> LoginAsync(string email)
    {
        using var login = await Gateway.Client.PostAsJsonAsync("/api/auth/login", new { email, password = Password, rememberMe = false });
        Assert.True(login.StatusCode == HttpStatusCode.OK, $"login: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        return new Account(body.GetProperty("user").GetProperty("id").GetString()!, body.GetProperty("user").GetProperty("role").GetString()!, body.GetProperty("token").GetString()!);
    }

    /// <summary>A client of the tools service's own port that sends <paramref name="token"/>.</summary>
    public HttpClient ToolsClient(string token)
    {
        var client = new HttpClient { BaseAddress = Tools.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Tools is not null)
        {
            await Tools.DisposeAsync();
        }

        await Runtime.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static ILoggerFactory LoggerFactory() =>
        Environment.GetEnvironmentVariable("AGENTVERSE_TEST_LOGS") == "1"
            ? Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug))
            : NullLoggerFactory.Instance;
}

public sealed record Account(string UserId, string Role, string Token);

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentVerse.Testing;
using AgentVerse.Runtime;

namespace AgentVerse.Tools.Mcp.Tests.Infrastructure;

/// <summary>
/// The tools tests' <see cref="ToolsRun"/> (gateway + tools as real processes behind a <see cref="LocalRuntime"/>) with
/// its first account, the admin, and accounts of any role.
/// </summary>
public sealed class McpTestRun : IAsyncDisposable
{
    private McpTestRun(ToolsRun run) => Run = run;

    public ToolsRun Run { get; }

    public ServiceProcess Gateway => Run.Gateway;

    public ServiceProcess Tools => Run.Tools;

    public LocalRuntime Runtime => Run.Runtime;

    /// <summary>The first account, which is the admin.</summary>
    public Account Admin { get; private set; } = null!;

    public static async Task<McpTestRun> StartAsync(IReadOnlyDictionary<string, string>? toolsSettings = null)
    {
        var stack = new McpTestRun(await ToolsRun.StartAsync(toolsSettings));
        try
        {
            stack.Admin = await stack.NewAccountAsync();
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
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
        using (var registered = await Gateway.Client.PostAsJsonAsync("/api/auth/register", new { email, password = ToolsRun.Password, firstName = "Ada", lastName = "Lovelace" }))
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

    /// <summary>A client of the tools service's own port that sends <paramref name="token"/>.</summary>
    public HttpClient ToolsClient(string token)
    {
        var client = new HttpClient { BaseAddress = Tools.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public ValueTask DisposeAsync() => Run.DisposeAsync();

    private async Task<Account> LoginAsync(string email)
    {
        using var login = await Gateway.Client.PostAsJsonAsync("/api/auth/login", new { email, password = ToolsRun.Password, rememberMe = false });
        Assert.True(login.StatusCode == HttpStatusCode.OK, $"login: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        return new Account(body.GetProperty("user").GetProperty("id").GetString()!, body.GetProperty("user").GetProperty("role").GetString()!, body.GetProperty("token").GetString()!);
    }
}

public sealed record Account(string UserId, string Role, string Token);

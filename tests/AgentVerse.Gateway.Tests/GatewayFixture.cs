using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentVerse.Testing;

namespace AgentVerse.Gateway.Tests;

/// <summary>One <see cref="GatewayRun"/> for the whole collection, with the first (admin) account registered.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string Password = "correct-horse-battery-9";

    public GatewayRun Stack { get; private set; } = null!;

    public HttpClient Gateway => Stack.Gateway.Client;

    public HttpClient Agents => Stack.Agents.Client;

    /// <summary>The role the very first registration got.</summary>
    public string FirstAccountRole { get; private set; } = "";

    public Session Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Stack = await GatewayRun.StartAsync(new Dictionary<string, string>
        {
            ["Gateway__RateLimits__PerUserBurst"] = "40",
            ["Gateway__RateLimits__PerUserRequestsPerSecond"] = "20",
            ["Gateway__RateLimits__PerIpRequests"] = "100000",
            ["Gateway__Routing__Routes__rag__AppId"] = GatewayRun.EchoAppId,
            ["Gateway__Routing__Routes__rag__TimeoutSeconds"] = "2",
            ["Gateway__Routing__Routes__ghost__AppId"] = "ghost",
            ["Gateway__Cors__AllowedOrigins__0"] = "https://app.example",
        });

        var email = $"admin-{Guid.NewGuid():N}@example.com";
        using var registered = await RegisterAsync(email);
        registered.EnsureSuccessStatusCode();
        FirstAccountRole = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString()!;
        Admin = await LoginAsync(email);
    }

    public async Task DisposeAsync() => await Stack.DisposeAsync();

    public Task<HttpResponseMessage> RegisterAsync(string email, string password = Password) =>
        Gateway.PostAsJsonAsync("/api/auth/register", new { email, password, firstName = "Ada", lastName = "Lovelace" });

    public async Task<Session> LoginAsync(string email, string password = Password, bool rememberMe = false)
    {
        using var response = await Gateway.PostAsJsonAsync("/api/auth/login", new { email, password, rememberMe });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"login: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return Session.From(email, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>A new account of <paramref name="role"/>, logged in.</summary>
    public async Task<Session> NewUserAsync(string role = "user")
    {
        var email = $"u-{Guid.NewGuid():N}@example.com";
        using (var registered = await RegisterAsync(email))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        var session = await LoginAsync(email);
        if (role != "user")
        {
            using var patched = await SendAsync(HttpMethod.Patch, $"/api/v1/users/{session.UserId}", Admin.Token, new { role });
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            // A role change revokes the user's sessions; a new login carries the new role.
            session = await LoginAsync(email);
        }

        return session;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null, HttpClient? client = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        configure?.Invoke(request);
        return (client ?? Gateway).SendAsync(request);
    }
}

public sealed record Session(string Email, string Token, string RefreshToken, string UserId, string Role, DateTimeOffset ExpiresAt)
{
    public static Session From(string email, JsonElement login) => new(
        email,
        login.GetProperty("token").GetString()!,
        login.GetProperty("refreshToken").GetString()!,
        login.GetProperty("user").GetProperty("id").GetString()!,
        login.GetProperty("user").GetProperty("role").GetString()!,
        login.GetProperty("expiresAt").GetDateTimeOffset());
}

[CollectionDefinition(Name)]
public sealed class GatewayTestGroup : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}

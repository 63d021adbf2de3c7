using System.Net.Http.Json;
using System.Text.Json;
using AgentVerse.Testing;
using Dapr.Client;

namespace AgentVerse.Tools.Tests;

/// <summary>One <see cref="ToolsRun"/> for the collection, with an admin (the first account) and three users.</summary>
public sealed class ToolsFixture : IAsyncLifetime
{
    public const int MaxTimeoutMs = 2_000;

    public ToolsRun Run { get; private set; } = null!;

    public HttpClient Tools => Run.Tools.Client;

    public DaprClient ToolsSidecar { get; private set; } = null!;

    public User Admin { get; private set; } = null!;

    public User Alice { get; private set; } = null!;

    public User Bob { get; private set; } = null!;

    public User Carol { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Run = await ToolsRun.StartAsync(new Dictionary<string, string>
        {
            ["Tools__MaxTimeoutMs"] = MaxTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Tools__DefaultTimeoutMs"] = MaxTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        ToolsSidecar = Run.Runtime["tools"].CreateDaprClient();
        Admin = await Run.NewUserAsync();
        Alice = await Run.NewUserAsync();
        Bob = await Run.NewUserAsync();
        Carol = await Run.NewUserAsync();
    }

    public async Task DisposeAsync()
    {
        ToolsSidecar?.Dispose();
        await Run.DisposeAsync();
    }

    public async Task<(HttpResponseMessage Response, string Body)> SendAsync(User user, HttpMethod method, string path, object? body = null)
    {
        using var request = user.Request(method, path, body);
        var response = await Tools.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonElement> ExecuteAsync(User user, string toolId, object parameters, int? timeout = null)
    {
        var (response, body) = await SendAsync(user, HttpMethod.Post, $"/api/v1/tools/{toolId}/execute", new { parameters, timeout });
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    public async Task<string> RegisterAsync(User user, object tool)
    {
        var (response, body) = await SendAsync(user, HttpMethod.Post, "/api/v1/tools", tool);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    public object EchoTool(string name, string visibility = "private", IReadOnlyList<string>? sharedWith = null, string? apiKey = null, string path = "/echo") => new
    {
        name,
        description = "Echoes its input",
        inputSchema = JsonDocument.Parse("""{"type":"object","required":["q"],"properties":{"q":{"type":"string","maxLength":50}},"additionalProperties":false}""").RootElement,
        outputSchema = JsonDocument.Parse("""{"type":"object","description":"what the endpoint received"}""").RootElement,
        endpoint = Run.Target.Url(path).ToString(),
        method = "POST",
        apiKey,
        visibility,
        sharedWith,
    };
}

[CollectionDefinition(Name)]
public sealed class ToolsTestGroup : ICollectionFixture<ToolsFixture>
{
    public const string Name = "tools service";
}

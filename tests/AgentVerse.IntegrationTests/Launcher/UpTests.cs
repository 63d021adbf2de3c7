using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentVerse.Cli.RunFiles;
using AgentVerse.Testing;

namespace AgentVerse.IntegrationTests.Launcher;

/// <summary>
/// <c>agentverse up</c>: the eight services of the root dapr.yaml, as a newcomer runs them. Each test runs it in a
/// throwaway directory that holds a copy of the run file and components (pointing at this repository's built
/// services), so the repository's own <c>.agentverse/</c> data is never touched.
/// </summary>
public sealed class UpTests : IDisposable
{
    private readonly TempDir _root = new();
    private readonly IReadOnlyList<RunFileApp> _apps;

    public UpTests()
    {
        // --no-build: `dotnet test AgentVerse.sln` (scripts/test.sh) has just built every service;
        // building the solution again from inside its own test run would race the outer build.
        _apps = RunFileParser.Load(Path.Combine(RepoPaths.Root, "dapr.yaml"), new Dictionary<string, string?>()).Apps;
        var missing = _apps.Select(a => Path.Combine(a.AppDirPath, a.Command[1])).Where(dll => !File.Exists(dll)).ToList();
        Assert.True(missing.Count == 0, $"build the solution first (./scripts/test.sh does): missing {string.Join(", ", missing)}");

        // `up` finds its root by the solution file; the run file's app directories point back at the real services.
        _root.Write("AgentVerse.sln", "");
        _root.Write("dapr.yaml", File.ReadAllText(Path.Combine(RepoPaths.Root, "dapr.yaml"))
            .Replace("appDirPath: ./services/", $"appDirPath: {Path.Combine(RepoPaths.Root, "services")}/", StringComparison.Ordinal));
        foreach (var component in Directory.GetFiles(Path.Combine(RepoPaths.Root, "components", "local")))
        {
            _root.Write(Path.Combine("components", "local", Path.GetFileName(component)), File.ReadAllText(component));
        }
    }

    public void Dispose() => _root.Dispose();

    private string SecretsFile => Path.Combine(_root.Path, ".agentverse", "secrets.json");

    private async Task<CliProcess> UpAsync()
    {
        var cli = CliProcess.Start(_root.Path, "up", "--no-build");
        await cli.WaitForLineAsync("agentverse: AgentVerse is up: gateway at http://127.0.0.1:8000", TimeSpan.FromSeconds(120));
        return cli;
    }

    private static async Task StopAsync(CliProcess cli)
    {
        cli.Terminate();
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Up_starts_the_eight_services_and_says_where_the_gateway_listens()
    {
        await using var cli = await UpAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var app in _apps)
        {
            // dapr.yaml has the launcher probe /healthz before it calls an app ready, so it must answer now.
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{app.AppPort}/healthz"));
            Assert.True(response.IsSuccessStatusCode, $"{app.AppId} /healthz answered {(int)response.StatusCode}");
            Assert.Contains($"agentverse: {app.AppId} ready at http://127.0.0.1:{app.AppPort} (sidecar http {app.DaprHttpPort}, grpc {app.DaprGrpcPort})", cli.Output, StringComparison.Ordinal);
        }

        // up runs Development: the gateway's OpenAPI document has an explorer beside it.
        using var explorer = await http.GetAsync(new Uri("http://127.0.0.1:8000/scalar/v1"));
        Assert.Equal(HttpStatusCode.OK, explorer.StatusCode);
        Assert.Equal("text/html", explorer.Content.Headers.ContentType?.MediaType);
        await StopAsync(cli);
    }

    [Fact]
    public async Task Up_prints_next_steps_whose_urls_and_first_calls_work()
    {
        await using var cli = await UpAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var lines = cli.Output.Split('\n');
        string After(string label) => lines.Single(l => l.TrimStart().StartsWith(label, StringComparison.Ordinal)).Trim()[label.Length..].Trim();
        // Each first call is printed as: curl -s -X POST <url> -H 'Content-Type: application/json' -d '<json>'
        (string Url, string Body) Curl(string path)
        {
            var curl = lines.Single(l => l.Contains($"curl -s -X POST http://127.0.0.1:8000{path} ", StringComparison.Ordinal)).Trim();
            return (curl.Split(' ')[4], curl[(curl.IndexOf("-d '", StringComparison.Ordinal) + 4)..^1]);
        }

        Assert.Equal("http://127.0.0.1:8000", After("API gateway"));
        Assert.Equal("http://127.0.0.1:8000/scalar/v1", After("API explorer"));
        using var openApi = await http.GetAsync(new Uri(After("OpenAPI document")));
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        Assert.Equal("3", (await openApi.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("openapi").GetString()![..1]);

        var register = Curl("/api/auth/register");
        using var registered = await http.PostAsync(new Uri(register.Url), new StringContent(register.Body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var login = Curl("/api/auth/login");
        using var loggedIn = await http.PostAsync(new Uri(login.Url), new StringContent(login.Body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, loggedIn.StatusCode);
        Assert.False(string.IsNullOrEmpty((await loggedIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()));

        await StopAsync(cli);
    }

    [Fact]
    public async Task Tokens_and_encrypted_keys_survive_a_restart_of_up_because_up_provisions_the_secrets_once()
    {
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:8000/"), Timeout = TimeSpan.FromSeconds(30) };
        const string apiKey = "sk-live-do-not-echo-4711";
        string token, toolId;
        await using (var first = await UpAsync())
        {
            Assert.Contains("agentverse: generated gateway-jwt-signing-key, tools-api-key-encryption-key in .agentverse/secrets.json", first.Output, StringComparison.Ordinal);
            var email = $"newcomer-{Guid.NewGuid():N}@example.com";
            using (var registered = await http.PostAsJsonAsync("api/auth/register", new { email, password = "correct-horse-battery-9" }))
            {
                Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            }

            using (var login = await http.PostAsJsonAsync("api/auth/login", new { email, password = "correct-horse-battery-9" }))
            {
                login.EnsureSuccessStatusCode();
                token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
            }

            using var create = new HttpRequestMessage(HttpMethod.Post, "api/v1/tools")
            {
                Content = JsonContent.Create(new
                {
                    name = "keyed-hook",
                    description = "A tool with an API key",
                    inputSchema = new { type = "object" },
                    endpoint = "http://93.184.216.34/hook",
                    method = "POST",
                    apiKey,
                }),
            };
            create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var created = await http.SendAsync(create);
            var body = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{(int)created.StatusCode} {body}");
            Assert.DoesNotContain(apiKey, body, StringComparison.Ordinal);
            Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("hasApiKey").GetBoolean());
            toolId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
            await StopAsync(first);
        }

        var provisioned = await File.ReadAllTextAsync(SecretsFile);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SecretsFile));
        }

        await using var second = await UpAsync();
        Assert.DoesNotContain("agentverse: generated", second.Output, StringComparison.Ordinal);
        Assert.Equal(provisioned, await File.ReadAllTextAsync(SecretsFile));
        using var me = new HttpRequestMessage(HttpMethod.Get, "api/auth/me");
        me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var meResponse = await http.SendAsync(me);
        Assert.Equal(HttpStatusCode.OK, meResponse.StatusCode);
        using var tool = new HttpRequestMessage(HttpMethod.Get, $"api/v1/tools/{toolId}");
        tool.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var toolResponse = await http.SendAsync(tool);
        var toolBody = await toolResponse.Content.ReadAsStringAsync();
        Assert.True(toolResponse.StatusCode == HttpStatusCode.OK, toolBody);
        Assert.DoesNotContain(apiKey, toolBody, StringComparison.Ordinal);
        await StopAsync(second);
    }
}

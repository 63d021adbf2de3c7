using System.Net;
using System.Text.Json;
using AgentVerse.Runtime.Components;
using AgentVerse.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Tests.Sidecar;

/// <summary>Secrets, metadata, health, API tokens and component loading errors.</summary>
public sealed class SidecarApiTests
{
    private static async Task<string> SecretStoreYamlAsync(string directory)
    {
        var file = Path.Combine(directory, "secrets.json");
        await File.WriteAllTextAsync(file, """{"db":{"password":"s3cret","user":"app"},"apiKey":"k-123"}""");
        return $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: localsecrets
            spec:
              type: secretstores.local.file
              version: v1
              metadata:
              - name: secretsFile
                value: "{file}"
              - name: nestedSeparator
                value: ":"
            """;
    }

    [Fact]
    public async Task Secrets_are_read_one_by_one_and_in_bulk()
    {
        await using var run = await RuntimeRun.StartAsync([await SecretStoreYamlAsync(TempDirectory.Create())], new AppSpec("app"));
        var client = run.Client("app");

        using var one = JsonDocument.Parse(await client.GetStringAsync("v1.0/secrets/localsecrets/db:password"));
        Assert.Equal("s3cret", one.RootElement.GetProperty("db:password").GetString());

        using var bulk = JsonDocument.Parse(await client.GetStringAsync("v1.0/secrets/localsecrets/bulk"));
        Assert.Equal("k-123", bulk.RootElement.GetProperty("apiKey").GetProperty("apiKey").GetString());

        using var missing = await client.GetAsync("v1.0/secrets/localsecrets/nope");
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        Assert.Contains("ERR_SECRET_GET", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var unknownStore = await client.GetAsync("v1.0/secrets/other/x");
        Assert.Equal(HttpStatusCode.Unauthorized, unknownStore.StatusCode);
        Assert.Contains("ERR_SECRET_STORE_NOT_FOUND", await unknownStore.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_describes_the_app_its_components_and_subscriptions()
    {
        await using var app = await TestApp.StartAsync((web, _) =>
            web.MapGet("/dapr/subscribe", () => Results.Text("""[{"pubsubname":"pubsub","topic":"orders","route":"/orders","deadLetterTopic":"dead"}]""", "application/json")));
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryState, ComponentYaml.InMemoryPubSub], new AppSpec("app", app.Port));
        var client = run.Client("app");
        using var put = await client.PutAsync("v1.0/metadata/owner", new StringContent("team-a"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);

        using var json = JsonDocument.Parse(await client.GetStringAsync("v1.0/metadata"));
        var root = json.RootElement;
        Assert.Equal("app", root.GetProperty("id").GetString());
        var state = root.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "statestore");
        Assert.Equal("state.in-memory", state.GetProperty("type").GetString());
        Assert.Contains("ETAG", state.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("TRANSACTIONAL", state.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        var subscription = root.GetProperty("subscriptions").EnumerateArray().Single();
        Assert.Equal("orders", subscription.GetProperty("topic").GetString());
        Assert.Equal("dead", subscription.GetProperty("deadLetterTopic").GetString());
        Assert.Equal("team-a", root.GetProperty("extended").GetProperty("owner").GetString());
        Assert.Equal(app.Port, root.GetProperty("appConnectionProperties").GetProperty("port").GetInt32());
    }

    [Fact]
    public async Task Healthz_waits_for_the_app_while_outbound_is_ready_at_once()
    {
        var port = LoopbackPorts.Take();
        var directory = TempDirectory.Create();
        await using var runtime = await LocalRuntime.StartAsync(
            [new SidecarOptions { AppId = "late", AppPort = port, ResourcesPaths = [directory] }], TestLogging.LoggerFactory(), CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{runtime["late"].HttpPort}/") };

        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("v1.0/healthz/outbound")).StatusCode);
        using var notReady = await client.GetAsync("v1.0/healthz");
        Assert.Equal(HttpStatusCode.InternalServerError, notReady.StatusCode);
        Assert.Contains("ERR_HEALTH_NOT_READY", await notReady.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The app comes up on the expected port later.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var late = builder.Build();
        await late.StartAsync();
        await runtime["late"].AppReady.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("v1.0/healthz")).StatusCode);
    }

    [Fact]
    public async Task A_bad_api_token_gets_a_plain_401_and_health_stays_open()
    {
        await using var callee = await TestApp.StartAsync((web, _) => web.MapGet("/hello", () => "hi"));
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.InMemoryState],
            new AppSpec("caller", ApiToken: "caller-token"), new AppSpec("callee", callee.Port, AppApiToken: "app-token"));

        using var missing = await run.Client("caller").GetAsync("v1.0/state/statestore/k");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("text/plain", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal("invalid api token", await missing.Content.ReadAsStringAsync());

        using var wrong = await run.Client("caller", "nope").GetAsync("v1.0/metadata");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await run.Client("caller").GetAsync("v1.0/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await run.Client("caller").GetAsync("v1.0/healthz/outbound")).StatusCode);

        using var ok = await run.Client("caller", "caller-token").GetAsync("v1.0/invoke/callee/method/hello");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var seen = callee.To("/hello").Single();
        Assert.Equal("app-token", seen.Header("dapr-api-token")); // APP_API_TOKEN goes to the app, the caller's token does not
    }

    [Fact]
    public async Task An_invalid_component_file_stops_start_up_naming_file_component_and_field()
    {
        var directory = TempDirectory.Create();
        await File.WriteAllTextAsync(Path.Combine(directory, "broken.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: badstore
            spec:
              type: state.sqlite
              version: v1
              metadata: []
            """);
        var error = await Assert.ThrowsAsync<ComponentLoadException>(() =>
            LocalRuntime.StartAsync([new SidecarOptions { AppId = "app", ResourcesPaths = [directory] }], TestLogging.LoggerFactory(), CancellationToken.None));
        Assert.Contains("broken.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("badstore", error.Message, StringComparison.Ordinal);
        Assert.Contains("connectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_component_type_stops_start_up()
    {
        var directory = TempDirectory.Create();
        await File.WriteAllTextAsync(Path.Combine(directory, "redis.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: cache
            spec:
              type: state.nosuchthing
              version: v1
              metadata: []
            """);
        var error = await Assert.ThrowsAsync<ComponentLoadException>(() =>
            LocalRuntime.StartAsync([new SidecarOptions { AppId = "app", ResourcesPaths = [directory] }], TestLogging.LoggerFactory(), CancellationToken.None));
        Assert.Contains("redis.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("spec.type", error.Message, StringComparison.Ordinal);
    }

}

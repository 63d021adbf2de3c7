using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Runtime.Tests.Sidecar;

/// <summary>
/// A real <see cref="LocalRuntime"/> over a temp resources directory, torn down on dispose.
/// Each test writes the component YAML it needs, so every test reads as a short story.
/// </summary>
public sealed class RuntimeRun : IAsyncDisposable
{
    private readonly Dictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    private RuntimeRun(LocalRuntime runtime, string directory)
    {
        Runtime = runtime;
        Directory = directory;
    }

    public LocalRuntime Runtime { get; }
    public string Directory { get; }

    public const string InMemoryState = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: state.in-memory
          version: v1
          metadata: []
        """;

    public const string InMemoryPubSub = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: pubsub
        spec:
          type: pubsub.in-memory
          version: v1
          metadata: []
        """;

    public static string TempDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "agentverse-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Starts sidecars for <paramref name="apps"/> over a new resources dir holding <paramref name="resources"/> (one YAML file each).</summary>
    public static async Task<RuntimeRun> StartAsync(IEnumerable<string> resources, params AppSpec[] apps)
    {
        var directory = TempDirectory();
        var i = 0;
        foreach (var yaml in resources)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, $"resource{i++}.yaml"), yaml);
        }
        var options = apps.Select(a => new SidecarOptions
        {
            AppId = a.AppId,
            AppPort = a.AppPort,
            ResourcesPaths = [directory],
            ApiToken = a.ApiToken,
            AppApiToken = a.AppApiToken,
        }).ToList();
        var runtime = await LocalRuntime.StartAsync(options, LoggerFactory(), CancellationToken.None);
        var run = new RuntimeRun(runtime, directory);
        using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Task.WhenAll(runtime.Sidecars.Select(s => s.AppReady.WaitAsync(ready.Token)));
        return run;
    }

    public static ILoggerFactory LoggerFactory() =>
        Environment.GetEnvironmentVariable("AGENTVERSE_TEST_LOGS") == "1"
            ? Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug))
            : NullLoggerFactory.Instance;

    /// <summary>An HttpClient aimed at the app's sidecar HTTP API.</summary>
    public HttpClient Client(string appId, string? apiToken = null)
    {
        if (!_clients.TryGetValue(appId + apiToken, out var client))
        {
            client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Runtime[appId].HttpPort}/") };
            if (apiToken is not null)
            {
                client.DefaultRequestHeaders.Add("dapr-api-token", apiToken);
            }
            client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            _clients[appId + apiToken] = client;
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
        await Runtime.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A store may still hold a file briefly on some file systems; the temp dir is disposable anyway.
        }
    }
}

public sealed record AppSpec(string AppId, int? AppPort = null, string? ApiToken = null, string? AppApiToken = null);

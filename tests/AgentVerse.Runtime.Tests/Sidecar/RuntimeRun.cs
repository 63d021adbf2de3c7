using System.Net.Http.Headers;
using AgentVerse.Testing;

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

    /// <summary>Starts sidecars for <paramref name="apps"/> over a new resources dir holding <paramref name="resources"/> (one YAML file each).</summary>
    public static async Task<RuntimeRun> StartAsync(IEnumerable<string> resources, params AppSpec[] apps)
    {
        var directory = await ResourcesDirectory.CreateAsync(resources);
        var options = apps.Select(a => new SidecarOptions
        {
            AppId = a.AppId,
            AppPort = a.AppPort,
            ResourcesPaths = [directory],
            ApiToken = a.ApiToken,
            AppApiToken = a.AppApiToken,
        }).ToList();
        var runtime = await LocalRuntime.StartAsync(options, TestLogging.LoggerFactory(), CancellationToken.None);
        var run = new RuntimeRun(runtime, directory);
        using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Task.WhenAll(runtime.Sidecars.Select(s => s.AppReady.WaitAsync(ready.Token)));
        return run;
    }

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
        TempDirectory.Delete(Directory);
    }
}

public sealed record AppSpec(string AppId, int? AppPort = null, string? ApiToken = null, string? AppApiToken = null);

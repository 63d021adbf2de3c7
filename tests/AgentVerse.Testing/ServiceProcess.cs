using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using AgentVerse.Runtime;

namespace AgentVerse.Testing;

/// <summary>One AgentVerse service running from its build output as a real process, as the launcher runs it.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(string name, int port, Process process)
    {
        Name = name;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stdout.Enqueue(e.Data);
                _output.Enqueue(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
    }

    /// <summary>The project name, e.g. <c>Gateway</c>.</summary>
    public string Name { get; }

    /// <summary>The service's loopback <c>APP_PORT</c>.</summary>
    public int Port { get; }

    /// <summary>A client whose base address is the service's own port (bypassing the gateway).</summary>
    public HttpClient Client { get; }

    /// <summary>The lines the service has written to stdout so far.</summary>
    public IReadOnlyList<string> StandardOutput => [.. _stdout];

    /// <summary>Everything the service has written so far, stdout and stderr as they came.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>CPU time the process has used so far (user + system).</summary>
    public TimeSpan TotalProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts <c>dotnet AgentVerse.{name}.dll</c> on a free port and waits until <c>/healthz</c> answers.</summary>
    public static Task<ServiceProcess> StartAsync(string name, IReadOnlyDictionary<string, string> environment, string? configuration = null) =>
        StartAsync(name, LoopbackPorts.Take(), environment, configuration);

    /// <summary>Waits for services started together; when one fails, stops those that did start, then rethrows.</summary>
    public static async Task<ServiceProcess[]> WhenAllStartedAsync(IReadOnlyCollection<Task<ServiceProcess>> starting)
    {
        try
        {
            return await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var task in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await task.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Starts <c>dotnet AgentVerse.{name}.dll</c> on <paramref name="port"/> and waits until <c>/healthz</c> answers.</summary>
    public static async Task<ServiceProcess> StartAsync(string name, int port, IReadOnlyDictionary<string, string> environment, string? configuration = null)
    {
        var dll = LocateServiceAssembly(name, configuration);
        var startInfo = new ProcessStartInfo("dotnet", [dll])
        {
            // The content root, where appsettings.json is, defaults to the working directory.
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Nothing from the test runner's environment may decide the binding, environment or exporters.
        foreach (var inherited in new[] { "ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_HTTP_PORTS", "DOTNET_ENVIRONMENT", "APP_ID", "DAPR_HTTP_ENDPOINT", "DAPR_GRPC_ENDPOINT", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT", "DAPR_API_TOKEN", "APP_API_TOKEN", "OTEL_EXPORTER_OTLP_ENDPOINT" })
        {
            startInfo.Environment.Remove(inherited);
        }

        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        startInfo.Environment["APP_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        var service = new ServiceProcess(name, port, new Process { StartInfo = startInfo });
        service._process.Start();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        await service.WaitUntilLiveAsync(TimeSpan.FromSeconds(60));
        return service;
    }

    /// <summary>Waits for a stdout line matching <paramref name="predicate"/>: the console logger writes asynchronously.</summary>
    public async Task<string?> WaitForOutputAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            if (_stdout.FirstOrDefault(predicate) is { } line)
            {
                return line;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        return null;
    }

    /// <summary>Waits for the process to end on its own; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        // Also waits for the redirected output to be read to its end, so Output is complete afterwards.
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    public override string ToString() => Name;

    private async Task WaitUntilLiveAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                // Wait for the redirected output to be read to its end too, or the message could lack the reason.
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Name} did not answer /healthz within {timeout}:\n{Output}");
    }

    /// <summary>
    /// <c>services/{name}/bin/{Configuration}/net10.0/AgentVerse.{name}.dll</c> under the repository root, the build
    /// output of the referencing project's ProjectReferences; by default the configuration this library was built in
    /// (tests: Debug; the benchmarks: Release).
    /// </summary>
    public static string LocateServiceAssembly(string name, string? configuration = null)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "AgentVerse.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException($"No AgentVerse.sln above {AppContext.BaseDirectory}.");
        }

        configuration ??= typeof(ServiceProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = Path.Combine(root.FullName, "services", name, "bin", configuration, "net10.0", $"AgentVerse.{name}.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build output of {name} not found; build first.", dll);
    }
}

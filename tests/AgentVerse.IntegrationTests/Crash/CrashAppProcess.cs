using AgentVerse.Testing;
using System.Collections.Concurrent;
using System.Diagnostics;
using AgentVerse.IntegrationTests.Launcher;

namespace AgentVerse.IntegrationTests.Crash;

/// <summary>
/// The crash app (tests/CrashApp) as a real child process with the environment the launcher would give it.
/// Disposing kills it if it is still running.
/// </summary>
public sealed class CrashAppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private CrashAppProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output => string.Join('\n', _lines);

    public static CrashAppProcess Start(IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RepoPaths.CrashAppDll);
        foreach (var inherited in (string[])["DAPR_API_TOKEN", "APP_API_TOKEN", "DAPR_HTTP_ENDPOINT", "DAPR_GRPC_ENDPOINT"])
        {
            info.Environment.Remove(inherited);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return new CrashAppProcess(Process.Start(info)!);
    }

    /// <summary>Kills the app at once (SIGKILL), as a crash or an OOM kill would, and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }
}

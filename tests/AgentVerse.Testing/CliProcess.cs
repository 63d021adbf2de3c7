using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace AgentVerse.Testing;

/// <summary>
/// The real <c>agentverse</c> launcher as a child process (<c>dotnet agentverse.dll ...</c>), the way a
/// user runs it. Collects its output; disposing kills it and everything it started.
/// </summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _newLine = new(0);

    private CliProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output => string.Join('\n', _lines);

    /// <summary>Starts <c>agentverse &lt;args&gt;</c> in <paramref name="workingDirectory"/>.</summary>
    public static CliProcess Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RepoPaths.CliDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Tokens in the test runner's environment would otherwise reach the sidecars.
        info.Environment.Remove("DAPR_API_TOKEN");
        info.Environment.Remove("APP_API_TOKEN");
        return new CliProcess(Process.Start(info)!);
    }

    /// <summary>Runs <c>agentverse &lt;args&gt;</c> to the end and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        await using var cli = Start(workingDirectory, args);
        var code = await cli.WaitForExitAsync(timeout);
        return (code, cli.Output);
    }

    /// <summary>Waits for an output line containing <paramref name="text"/>; fails with the output so far.</summary>
    public async Task<string> WaitForLineAsync(string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var line = _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            if (_process.HasExited)
            {
                // Let the last lines arrive before giving up.
                await _process.WaitForExitAsync();
                line = _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
                return line ?? throw new InvalidOperationException($"agentverse exited ({_process.ExitCode}) without printing '{text}'. Output:\n{Output}");
            }

            try
            {
                await _newLine.WaitAsync(TimeSpan.FromMilliseconds(200), cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no '{text}' after {timeout.TotalSeconds:0} s. Output:\n{Output}");
            }
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"agentverse still running after {timeout.TotalSeconds:0} s. Output:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as a service manager or <c>docker stop</c> would.</summary>
    public void Terminate() => _ = NativeMethods.Kill(_process.Id, 15);

    /// <summary>Kills the launcher and its whole tree at once, as a crash or an OOM kill would.</summary>
    public void KillTree() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            KillTree();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _newLine.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        _newLine.Release();
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using AgentVerse.Cli.RunFiles;

namespace AgentVerse.Cli.Launch;

/// <summary>
/// One app's command, started in its <c>appDirPath</c> in a process group of its own so that a stop
/// reaches everything it spawned (<c>dotnet run</c> → the app, <c>npm start</c> → node), as dapr does.
/// </summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private const string SetSid = "/usr/bin/setsid";
    private readonly Process _process;
    private readonly StreamWriter? _logFile;
    private readonly bool _ownGroup;

    private AppProcess(Process process, StreamWriter? logFile, bool ownGroup)
    {
        _process = process;
        _logFile = logFile;
        _ownGroup = ownGroup;
        Exited = WaitForExitAsync();
    }

    public int Id => _process.Id;

    /// <summary>Completes with the exit code once the process has exited and its output is drained.</summary>
    public Task<int> Exited { get; }

    /// <summary>Starts <paramref name="app"/>'s command with <paramref name="environment"/> added to the launcher's own.</summary>
    public static AppProcess Start(RunFileApp app, IReadOnlyDictionary<string, string> environment, RunConsole console)
    {
        // setsid makes the child a process-group leader (same pid: a child of .NET is never one already),
        // and execs the command from appDirPath, so './start.sh' resolves where dapr would resolve it.
        var ownGroup = OperatingSystem.IsLinux() && File.Exists(SetSid);
        var info = new ProcessStartInfo(ownGroup ? SetSid : app.Command[0])
        {
            WorkingDirectory = app.AppDirPath,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (ownGroup)
        {
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(app.Command[0]);
        }

        foreach (var argument in app.Command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        StreamWriter? logFile = null;
        if (app.AppLogDestination is LogDestination.File or LogDestination.FileAndConsole)
        {
            // Same place and name pattern as dapr: <appDirPath>/.dapr/logs/<appID>_app_<timestamp>.log
            var logs = Path.Combine(app.AppDirPath, ".dapr", "logs");
            Directory.CreateDirectory(logs);
            var stamp = DateTime.Now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            logFile = new StreamWriter(Path.Combine(logs, $"{app.AppId}_app_{stamp}.log"), append: true) { AutoFlush = true };
        }

        var toConsole = app.AppLogDestination is LogDestination.Console or LogDestination.FileAndConsole;
        var process = new Process { StartInfo = info };
        var fileGate = new Lock();
        void OnLine(string? line, bool isError)
        {
            if (line is null)
            {
                return;
            }

            if (toConsole)
            {
                console.AppLine(app.AppId, line, isError);
            }

            if (logFile is not null)
            {
                lock (fileGate)
                {
                    logFile.WriteLine(line);
                }
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, isError: true);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            logFile?.Dispose();
            throw new InvalidOperationException($"cannot start '{app.Command[0]}' in {app.AppDirPath}: {e.Message}", e);
        }

        // No one types into an app; a closed stdin keeps REPL-ish commands from waiting on the terminal.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new AppProcess(process, logFile, ownGroup);
    }

    /// <summary>SIGTERM to the process group, then, after <paramref name="grace"/>, kill the whole tree.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Exited.IsCompleted)
        {
            return;
        }

        try
        {
            if (OperatingSystem.IsWindows())
            {
                _process.Kill(entireProcessTree: true);
            }
            else
            {
                _ = NativeMethods.Kill(_ownGroup ? -_process.Id : _process.Id, NativeMethods.SigTerm);
            }

            await Exited.WaitAsync(grace);
        }
        catch (TimeoutException)
        {
            KillTree();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        try
        {
            await Exited.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // A process that survives SIGKILL for 5 s is the kernel's business now.
        }
    }

    /// <summary>Kills the group and the tree at once, for the second Ctrl-C and for cleanup.</summary>
    public void KillTree()
    {
        if (_ownGroup)
        {
            _ = NativeMethods.Kill(-_process.Id, NativeMethods.SigKill);
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!Exited.IsCompleted)
        {
            KillTree();
        }

        try
        {
            await Exited.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        _process.Dispose();
        if (_logFile is not null)
        {
            await _logFile.DisposeAsync();
        }
    }

    private async Task<int> WaitForExitAsync()
    {
        // Waits for the exit and for the end of the redirected output, so no last line is lost.
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    private static class NativeMethods
    {
        public const int SigKill = 9;
        public const int SigTerm = 15;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}

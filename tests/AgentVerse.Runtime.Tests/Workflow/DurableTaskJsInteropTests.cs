using System.Diagnostics;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>
/// Dapr's own JavaScript durabletask SDK (@dapr/durabletask-js) as worker and client against the
/// runtime's gRPC port: tests/interop/workflow/durabletask-js.test.js.
/// </summary>
public sealed class DurableTaskJsInteropTests
{
    private static readonly SemaphoreSlim NpmGate = new(1, 1);

    private static string InteropDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AgentVerse.sln")))
        {
            directory = directory.Parent;
        }
        Assert.NotNull(directory);
        return Path.Combine(directory.FullName, "tests", "interop");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string arguments, string directory, IDictionary<string, string>? environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {arguments} did not finish within {timeout}:\n{await output}{await errors}");
        }
        return (process.ExitCode, await output + await errors);
    }

    // The packages are pinned in tests/interop/package-lock.json; install them once when a fresh clone lacks them.
    private static async Task EnsurePackagesAsync(string directory)
    {
        await NpmGate.WaitAsync();
        try
        {
            if (!Directory.Exists(Path.Combine(directory, "node_modules", "@dapr", "durabletask-js")))
            {
                var (exitCode, output) = await RunAsync("npm", "ci --no-audit --no-fund", directory, null, TimeSpan.FromMinutes(5));
                Assert.True(exitCode == 0, $"npm ci failed in {directory}:\n{output}");
            }
        }
        finally
        {
            NpmGate.Release();
        }
    }

    [Fact]
    public async Task The_durabletask_js_worker_and_client_run_chain_fan_out_timer_event_and_lifecycle_scenarios()
    {
        var directory = InteropDirectory();
        await EnsurePackagesAsync(directory);
        await using var run = await WorkflowRun.StartAsync();

        var (exitCode, output) = await RunAsync("node", Path.Combine("workflow", "durabletask-js.test.js"), directory,
            new Dictionary<string, string> { ["DAPR_GRPC_PORT"] = run.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            TimeSpan.FromMinutes(2));

        Assert.True(exitCode == 0, $"durabletask-js scenarios failed ({exitCode}):\n{output}");
        Assert.Contains("7 passed, 0 failed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_durabletask_js_run_survives_a_runtime_restart()
    {
        var directory = InteropDirectory();
        await EnsurePackagesAsync(directory);
        var first = await WorkflowRun.StartAsync();
        var port = first.GrpcPort;
        var info = new ProcessStartInfo("node", Path.Combine("workflow", "durabletask-js-restart.js"))
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DAPR_GRPC_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var node = Process.Start(info)!;
        var errors = node.StandardError.ReadToEndAsync();
        WorkflowRun? second = null;
        var firstStopped = false;
        try
        {
            var output = new System.Text.StringBuilder();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            while (await node.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                output.AppendLine(line);
                if (line.StartsWith("scheduled ", StringComparison.Ordinal) && second is null)
                {
                    await first.StopAsync();
                    firstStopped = true;
                    second = await WorkflowRun.StartAsync(first.Directory, grpcPort: port);
                }
            }
            await node.WaitForExitAsync(timeout.Token);
            Assert.True(node.ExitCode == 0, $"restart scenario failed ({node.ExitCode}):\n{output}{await errors}");
            Assert.NotNull(second);
            Assert.Contains("restart: 1 passed, 0 failed", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
            }
            if (second is not null)
            {
                await second.DisposeAsync();
            }
            else if (!firstStopped)
            {
                await first.DisposeAsync();
            }
        }
    }
}

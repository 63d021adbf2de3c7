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
}

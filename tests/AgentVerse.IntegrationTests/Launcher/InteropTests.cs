using AgentVerse.Testing;
using System.Diagnostics;

namespace AgentVerse.IntegrationTests.Launcher;

/// <summary>
/// Dapr's own JavaScript SDK against the local runtime, through <c>agentverse run -f</c>
/// (tests/interop/dapr-sdk.test.js; <c>scripts/test.sh</c> runs <c>npm ci</c> there first).
/// </summary>
public sealed class InteropTests
{
    private static readonly string InteropDir = Path.Combine(RepoPaths.Root, "tests", "interop");

    [Fact]
    public async Task Dapr_js_sdk_works_through_agentverse_run()
    {
        Assert.True(Directory.Exists(Path.Combine(InteropDir, "node_modules", "@dapr", "dapr")),
            "tests/interop/node_modules is missing: run ./scripts/test.sh (or npm ci in tests/interop)");
        var info = new ProcessStartInfo("node", "dapr-sdk.test.js")
        {
            WorkingDirectory = InteropDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["AGENTVERSE_DLL"] = RepoPaths.CliDll;
        info.Environment.Remove("DAPR_API_TOKEN");
        info.Environment.Remove("APP_API_TOKEN");

        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        try
        {
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(180));
        }
        catch (TimeoutException)
        {
            node.Kill(entireProcessTree: true);
            throw;
        }

        var all = await output + await errors;
        Assert.True(node.ExitCode == 0, $"interop script exited with {node.ExitCode}:\n{all}");
        Assert.Contains("interop: 6/6 checks passed", all, StringComparison.Ordinal);
        Assert.Contains("interop: launcher exited with 0", all, StringComparison.Ordinal);
    }
}

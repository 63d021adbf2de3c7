using AgentVerse.Tools.Mcp.Tests.Infrastructure;

namespace AgentVerse.Tools.Mcp.Tests;

/// <summary>
/// The official MCP conformance suite (<c>@modelcontextprotocol/conformance</c>, server mode, Node 22) against the
/// tools service configured with the suite's fixture tools. <c>tests/interop/mcp/conformance-baseline.yml</c> lists
/// the expected failures with a reason each; the runner fails on any other failure and on a stale entry.
/// </summary>
public sealed class ConformanceTests : IAsyncLifetime
{
    private McpTestRun _run = null!;
    private BearerProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _run = await McpTestRun.StartAsync(new Dictionary<string, string> { ["Mcp__Server__ConformanceFixtures"] = "true" });
        _proxy = await BearerProxy.StartAsync(_run.Tools.Client.BaseAddress!, _run.Admin.Token);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _run.DisposeAsync();
    }

    [Fact]
    public async Task The_conformance_suite_passes_except_for_the_baseline()
    {
        var output = Path.Combine(Path.GetTempPath(), "agentverse-mcp-conformance", Guid.NewGuid().ToString("N"));

        var (exitCode, log) = await NodeScript.RunAsync(
            "node_modules/@modelcontextprotocol/conformance/dist/index.js",
            ["server", "--url", new Uri(_proxy.Url, "mcp").ToString(), "--expected-failures", "mcp/conformance-baseline.yml", "-o", output],
            timeout: TimeSpan.FromMinutes(5));

        Assert.True(exitCode == 0, log);
    }
}

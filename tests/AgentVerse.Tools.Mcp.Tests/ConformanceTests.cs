using System.Text.RegularExpressions;
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
        var (exitCode, log) = await ConformanceAsync("--expected-failures", "mcp/conformance-baseline.yml");

        Assert.True(exitCode == 0, log);
    }

    // Not in 0.1.16's active suite. Also outside it: server-sse-polling, which only warns (no priming event or retry
    // field: the server keeps no event store, so streams are not resumable).
    [Theory]
    [InlineData("json-schema-2020-12")]
    public async Task A_scenario_outside_the_active_suite_passes(string scenario)
    {
        var (exitCode, log) = await ConformanceAsync("--scenario", scenario);

        Assert.True(exitCode == 0, log);
        Assert.True(Regex.IsMatch(log, @"Passed: ([1-9][0-9]*)/\1, 0 failed, 0 warnings"), log);
    }

    private Task<(int ExitCode, string Output)> ConformanceAsync(params string[] options) => NodeScript.RunAsync(
        "node_modules/@modelcontextprotocol/conformance/dist/index.js",
        ["server", "--url", new Uri(_proxy.Url, "mcp").ToString(), "-o", Path.Combine(Path.GetTempPath(), "agentverse-mcp-conformance", Guid.NewGuid().ToString("N")), .. options],
        timeout: TimeSpan.FromMinutes(5));
}

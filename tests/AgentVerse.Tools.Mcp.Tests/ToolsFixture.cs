using AgentVerse.Tools.Mcp.Tests.Infrastructure;

namespace AgentVerse.Tools.Mcp.Tests;

/// <summary>One <see cref="McpTestRun"/> for the collection, with a short session idle timeout to observe expiry.</summary>
public sealed class ToolsFixture : IAsyncLifetime
{
    public McpTestRun Run { get; private set; } = null!;

    public async Task InitializeAsync() => Run = await McpTestRun.StartAsync(new Dictionary<string, string>
    {
        ["Mcp__Server__SessionIdleTimeout"] = "00:00:03",
        ["Mcp__Server__PageSize"] = "1",
        ["Mcp__Server__MaxSessionsPerUser"] = "8",
        ["Mcp__Client__CallTimeout"] = "00:00:02",
        ["Mcp__Client__MaxResponseBytes"] = "65536",
        // The tests' MCP servers listen on loopback, which the SSRF policy otherwise refuses.
        ["Tools__Http__AllowedNetworks__0"] = "127.0.0.0/8",
    });

    public async Task DisposeAsync() => await Run.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ToolsTestGroup : ICollectionFixture<ToolsFixture>
{
    public const string Name = "tools";
}

using System.Text.Json;
using AgentVerse.Tools.Mcp.Tests.Infrastructure;

namespace AgentVerse.Tools.Mcp.Tests;

/// <summary>The official MCP TypeScript SDK (<c>@modelcontextprotocol/sdk</c>) against our server.</summary>
[Collection(ToolsTestGroup.Name)]
public sealed class TypeScriptSdkInteropTests(ToolsFixture fixture)
{
    [Theory]
    [InlineData("tools")]
    [InlineData("gateway")]
    public async Task The_TypeScript_SDK_client_lists_and_calls_tools_with_a_bearer_token(string via)
    {
        var run = fixture.Run;
        var endpoint = new Uri((via == "gateway" ? run.Gateway : run.Tools).Client.BaseAddress!, "mcp");

        var (exitCode, output) = await NodeScript.RunAsync("mcp/sdk-client.mjs", [], new Dictionary<string, string>
        {
            ["MCP_URL"] = endpoint.ToString(),
            ["MCP_TOKEN"] = (await run.NewAccountAsync()).Token, // not the admin, who also sees every custom tool
        });

        Assert.True(exitCode == 0, output);
        var result = JsonElement.Parse(output.Split('\n').Last(l => l.StartsWith('{')));
        Assert.Equal("2025-11-25", result.GetProperty("protocolVersion").GetString());
        Assert.False(string.IsNullOrEmpty(result.GetProperty("sessionId").GetString()));
        Assert.Equal(McpServerTests.BuiltIns.Length, result.GetProperty("pages").GetInt32()); // the fixture's page size is 1
        Assert.Equal(McpServerTests.BuiltIns, result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()).Order());
        Assert.Equal(42, result.GetProperty("product").GetProperty("structuredContent").GetProperty("value").GetDouble());
        Assert.Contains("42", result.GetProperty("product").GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.True(result.GetProperty("invalid").GetProperty("isError").GetBoolean());
    }
}

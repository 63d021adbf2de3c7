using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentVerse.Testing;
using static AgentVerse.Benchmarks.BenchmarkSupport;

namespace AgentVerse.Benchmarks;

/// <summary>
/// <c>tools/call</c> of <c>calculator</c> over MCP (Streamable HTTP) straight to the tools service as a real process
/// behind its sidecar, with a real token: one session (protocol 2025-11-25) shared by every caller, or with
/// <c>--stateless</c> session-less 2026-07-28 requests. Each call is authenticated, validated, evaluated and
/// recorded, and answered as SSE; the service on one core (<see cref="OneCoreServiceLoad"/>).
/// </summary>
internal static class McpBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Option(args, "--rate", 1000);
        var seconds = Option(args, "--seconds", 10);
        var warmUp = Option(args, "--warmup", 20);
        var concurrency = Option(args, "--concurrency", 16);
        var stateless = args.Contains("--stateless");
        var version = stateless ? "2026-07-28" : "2025-11-25";
        Console.WriteLine($"mcp benchmark: tools/call calculator over Streamable HTTP ({version}{(stateless ? ", stateless" : ", one session")}); open-loop {rate}/s for {seconds} s, then closed-loop with {concurrency} callers; the service on one core");

        OneCoreServiceLoad.PinThisProcess();
        await using var run = await ToolsRun.StartAsync(OneCoreServiceLoad.OneCoreSettings);
        var user = await run.NewUserAsync();
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = 256, UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{run.Tools.Port}/"), Timeout = TimeSpan.FromSeconds(30) };

        string? sessionId = null;
        if (!stateless)
        {
            using var initialized = await PostAsync(client, user.Token, null, version, null,
                """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}""");
            sessionId = initialized.Headers.GetValues("Mcp-Session-Id").Single();
            using var _ = await PostAsync(client, user.Token, sessionId, version, null, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        }

        var failures = 0;
        var ids = 0;
        async Task CallAsync(int _)
        {
            var id = Interlocked.Increment(ref ids);
            var meta = stateless ? ""","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}""" : "";
            using var response = await PostAsync(client, user.Token, sessionId, version, "calculator",
                $$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"tools/call","params":{"name":"calculator","arguments":{"expression":"2 * (3 + 4) ^ 2 - sqrt(16) / max(1, 2)"}{{{meta}}}}}""");
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK || !text.Contains("\"value\":96", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref failures);
                throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
            }
        }

        await OneCoreServiceLoad.RunAsync(run, CallAsync, rate, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(warmUp), concurrency);
        Console.WriteLine($"failures {failures}; load average {LoadAverage()}, {Environment.ProcessorCount} cores on the machine");
        return 0;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string token, string? sessionId, string version, string? toolName, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", version);
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
        }
        else if (toolName is not null)
        {
            request.Headers.Add("Mcp-Method", "tools/call");
            request.Headers.Add("Mcp-Name", toolName);
        }

        return await client.SendAsync(request);
    }
}

using AgentVerse.Testing;
using AgentVerse.Cli.RunFiles;

namespace AgentVerse.IntegrationTests.Launcher;

/// <summary><c>agentverse up</c> on this repository: the eight services from the root dapr.yaml.</summary>
public sealed class UpTests
{
    [Fact]
    public async Task Up_starts_the_eight_services_and_says_where_the_gateway_listens()
    {
        // --no-build: `dotnet test AgentVerse.sln` (scripts/test.sh) has just built every service;
        // building the solution again from inside its own test run would race the outer build.
        var apps = RunFileParser.Load(Path.Combine(RepoPaths.Root, "dapr.yaml"), new Dictionary<string, string?>()).Apps;
        var missing = apps.Select(a => Path.Combine(a.AppDirPath, a.Command[1])).Where(dll => !File.Exists(dll)).ToList();
        Assert.True(missing.Count == 0, $"build the solution first (./scripts/test.sh does): missing {string.Join(", ", missing)}");

        await using var cli = CliProcess.Start(RepoPaths.Root, "up", "--no-build");
        await cli.WaitForLineAsync("agentverse: AgentVerse is up: gateway at http://127.0.0.1:8000", TimeSpan.FromSeconds(120));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var app in apps)
        {
            // dapr.yaml has the launcher probe /healthz before it calls an app ready, so it must answer now.
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{app.AppPort}/healthz"));
            Assert.True(response.IsSuccessStatusCode, $"{app.AppId} /healthz answered {(int)response.StatusCode}");
            Assert.Contains($"agentverse: {app.AppId} ready at http://127.0.0.1:{app.AppPort} (sidecar http {app.DaprHttpPort}, grpc {app.DaprGrpcPort})", cli.Output, StringComparison.Ordinal);
        }

        cli.Terminate();
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, ".agentverse", "secrets.json")), "up creates the local secrets file");
    }
}

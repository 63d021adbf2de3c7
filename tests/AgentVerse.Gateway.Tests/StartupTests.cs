using System.Globalization;
using System.Text.Json;
using AgentVerse.Runtime;
using AgentVerse.Testing;

namespace AgentVerse.Gateway.Tests;

/// <summary>What the gateway does when what it needs at start-up is not there.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task A_gateway_whose_secret_store_lacks_its_signing_key_exits_with_an_error_naming_the_secret()
    {
        var directory = TempDirectory.Create("agentverse-startup-tests");
        await ResourcesDirectory.WriteServiceComponentsAsync(directory, "{}");
        var port = LoopbackPorts.Take();
        await using var runtime = await LocalRuntime.StartAsync(
            [new SidecarOptions { AppId = "gateway", AppPort = port, ResourcesPaths = [directory] }], TestLogging.LoggerFactory(), CancellationToken.None);
        var environment = new Dictionary<string, string>
        {
            ["APP_ID"] = "gateway",
            ["DAPR_HTTP_PORT"] = runtime["gateway"].HttpPort.ToString(CultureInfo.InvariantCulture),
            ["DAPR_GRPC_PORT"] = runtime["gateway"].GrpcPort.ToString(CultureInfo.InvariantCulture),
        };

        string output;
        try
        {
            await using var gateway = await ServiceProcess.StartAsync("Gateway", port, environment);
            Assert.Equal(1, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            output = gateway.Output;
        }
        catch (InvalidOperationException e) when (e.Message.Contains("exited with code 1:", StringComparison.Ordinal))
        {
            // It stopped before its liveness endpoint was first polled.
            output = e.Message;
        }
        finally
        {
            TempDirectory.Delete(directory);
        }

        // Logs are JSON lines (quotes escaped): the critical one names the secret and the store.
        var critical = output.Split('\n').Where(line => line.StartsWith('{'))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(entry => entry.GetProperty("LogLevel").GetString() == "Critical")
            .Select(entry => entry.GetProperty("Message").GetString())
            .ToList();
        Assert.True(critical.Any(m => m!.Contains("Secret 'gateway-jwt-signing-key' cannot be read from secret store 'secretstore'", StringComparison.Ordinal)), output);
    }
}

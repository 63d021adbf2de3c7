using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentVerse.Runtime;
using AgentVerse.SdkApp;
using AgentVerse.Testing;
using Dapr.Actors;
using Dapr.Actors.Client;

namespace AgentVerse.DaprSdk.Tests;

/// <summary>
/// Actors across the two official SDKs through the runtime: the .NET SDK's proxy calls an actor hosted by Dapr's
/// JavaScript SDK (<c>@dapr/dapr</c>, HTTP protocol), and the JavaScript SDK's proxy calls an actor hosted by the .NET
/// SDK in tests/SdkApp. Needs node and <c>npm ci</c> in tests/interop (scripts/test.sh runs it).
/// </summary>
[Collection(SdkAppTests.Name)]
public sealed class JsActorInteropTests(SdkAppRun run)
{
    [Fact]
    public async Task The_dotnet_sdks_proxy_calls_an_actor_hosted_by_the_javascript_sdk()
    {
        var appPort = LoopbackPorts.Take();
        var directory = await ResourcesDirectory.CreateAsync(ComponentYaml.InMemoryActorStore);
        await using var runtime = await LocalRuntime.StartAsync(
            [new SidecarOptions { AppId = "js-host", AppPort = appPort, ResourcesPaths = [directory] }], TestLogging.LoggerFactory(), CancellationToken.None);
        var output = new StringBuilder();
        using var node = StartNode("js-actor-host.js", output,
            ("APP_PORT", appPort.ToString(CultureInfo.InvariantCulture)),
            ("DAPR_HTTP_PORT", runtime["js-host"].HttpPort.ToString(CultureInfo.InvariantCulture)));
        try
        {
            await runtime["js-host"].AppReady.WaitAsync(TimeSpan.FromSeconds(30));
            var endpoint = $"http://127.0.0.1:{runtime["js-host"].HttpPort}";
            var actor = ActorProxy.Create(new ActorId("js-1"), "JsCounterActor", new ActorProxyOptions { HttpEndpoint = endpoint });

            // The JS SDK parses bodies as strict JSON (objects or arrays) and spreads an array into the method's arguments.
            Assert.Equal(5, await actor.InvokeMethodAsync<int[], int>("increment", [5]));
            Assert.Equal(8, await actor.InvokeMethodAsync<int[], int>("increment", [3]));
            Assert.Equal(8, await actor.InvokeMethodAsync<int>("getCount"));

            // The JS SDK saved its state through the actor state transaction API.
            using var sidecar = new HttpClient { BaseAddress = new Uri(endpoint) };
            Assert.Equal("8", await sidecar.GetStringAsync(new Uri("/v1.0/actors/JsCounterActor/js-1/state/count", UriKind.Relative)));

            // A reminder registered by the JS actor (its Go-duration dueTime) fires back into it; one-shot, so once.
            // (JS SDK 3.18 hands object data to receiveReminder as "[object Object]", so only the firing is checked.)
            await actor.InvokeMethodAsync<string[]>("remindMe", ["wake"]);
            await SdkAppRun.EventuallyAsync(async () => (await actor.InvokeMethodAsync<JsonElement>("reminders")).GetArrayLength() > 0);
            await Task.Delay(300);
            Assert.Equal(1, (await actor.InvokeMethodAsync<JsonElement>("reminders")).GetArrayLength());
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException("JS actor host output:\n" + output, e);
        }
        finally
        {
            await StopAsync(node);
            TempDirectory.Delete(directory);
        }
    }

    [Fact]
    public async Task The_javascript_sdks_proxy_calls_an_actor_hosted_by_the_dotnet_sdk()
    {
        var id = "from-js-" + Guid.NewGuid().ToString("N");
        var output = new StringBuilder();
        using var node = StartNode("js-actor-client.js", output,
            ("DAPR_HTTP_PORT", run.HttpPort.ToString(CultureInfo.InvariantCulture)),
            ("ACTOR_TYPE", nameof(TallyActor)),
            ("ACTOR_ID", id));
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await node.WaitForExitAsync(timeout.Token);
            Assert.True(node.ExitCode == 0, "JS client failed:\n" + output);
            var line = output.ToString().Split('\n').Select(l => l.Trim()).Last(l => l.StartsWith('{'));
            using var result = JsonDocument.Parse(line);
            Assert.Equal(4, result.RootElement.GetProperty("first").GetInt32());
            Assert.Equal(10, result.RootElement.GetProperty("second").GetInt32());
            Assert.Equal(10, result.RootElement.GetProperty("count").GetInt32());

            var proxy = ActorProxy.Create<ITallyActor>(new ActorId(id), nameof(TallyActor), new ActorProxyOptions { HttpEndpoint = run.HttpEndpoint });
            Assert.Equal(10, await proxy.GetCountAsync());
        }
        finally
        {
            await StopAsync(node);
        }
    }

    private static string InteropDirectory()
    {
        var directory = Path.Combine(RepoPaths.Root, "tests", "interop");
        Assert.True(Directory.Exists(Path.Combine(directory, "node_modules", "@dapr", "dapr")),
            $"run 'npm ci' in {directory} first (the interop tests use Dapr's JavaScript SDK)");
        return directory;
    }

    private static Process StartNode(string script, StringBuilder output, params (string Name, string Value)[] environment)
    {
        var directory = InteropDirectory();
        var start = new ProcessStartInfo("node", Path.Combine(directory, "actors", script))
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentVerse.IntegrationTests.Crash;

/// <summary>What the crash tests ask the app's sidecar over its HTTP API: start a workflow, read its status and the effects sink.</summary>
public sealed class CrashSidecar(HttpClient http, int httpPort)
{
    public const string WorkflowName = "StepChainWorkflow";
    public const string StoreName = "statestore";

    private readonly string _baseUrl = $"http://127.0.0.1:{httpPort}/v1.0";

    public async Task StartWorkflowAsync(string instanceId, int steps)
    {
        using var response = await http.PostAsJsonAsync(new Uri($"{_baseUrl}/workflows/dapr/{WorkflowName}/start?instanceID={instanceId}"), steps);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"start answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The recorded effects by step (1..<paramref name="steps"/>); a missing step is absent.</summary>
    public async Task<Dictionary<int, StepEffect>> GetEffectsAsync(string instanceId, int steps)
    {
        var effects = new Dictionary<int, StepEffect>();
        for (var step = 1; step <= steps; step++)
        {
            using var response = await http.GetAsync(new Uri($"{_baseUrl}/state/{StoreName}/effect:{instanceId}:{step}"));
            response.EnsureSuccessStatusCode();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                effects[step] = (await response.Content.ReadFromJsonAsync<StepEffect>())!;
            }
        }

        return effects;
    }

    /// <summary>Polls the sink until step <paramref name="step"/>'s effect is recorded.</summary>
    public async Task WaitForEffectAsync(string instanceId, int step, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            using var response = await http.GetAsync(new Uri($"{_baseUrl}/state/{StoreName}/effect:{instanceId}:{step}"), cts.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(25, cts.Token);
        }
    }

    /// <summary>Polls the workflow until it is COMPLETED, FAILED or TERMINATED; returns its JSON.</summary>
    public async Task<JsonElement> WaitForWorkflowToFinishAsync(string instanceId, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            JsonElement state;
            try
            {
                state = await http.GetFromJsonAsync<JsonElement>(new Uri($"{_baseUrl}/workflows/dapr/{instanceId}"), cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new Xunit.Sdk.XunitException($"workflow {instanceId} not finished after {timeout.TotalSeconds:0} s");
            }

            if (state.GetProperty("runtimeStatus").GetString() is "COMPLETED" or "FAILED" or "TERMINATED")
            {
                return state;
            }

            await Task.Delay(100, cts.Token);
        }
    }
}

/// <summary>An effect as the crash app records it.</summary>
public sealed record StepEffect(int Step, int Pid);

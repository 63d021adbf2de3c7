using AgentVerse.Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>Our own workflow library (AgentVerse.Dapr.Workflow: worker + client) end to end against the runtime.</summary>
public sealed class CSharpWorkerTests
{
    private static async Task<IHost> StartAppAsync(int grpcPort, Action<DaprWorkflowOptions> register)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDaprWorkflow(o =>
        {
            o.GrpcEndpoint = new Uri($"http://127.0.0.1:{grpcPort}");
            o.MaxReconnectDelay = TimeSpan.FromMilliseconds(500);
            register(o);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static void Register(DaprWorkflowOptions o, TaskCompletionSource? gate = null)
    {
        o.RegisterActivity<int, int>("Double", (_, n) => Task.FromResult(n * 2));
        o.RegisterActivity<int, int>("Slow", async (_, n) =>
        {
            if (gate is not null)
            {
                await gate.Task;
            }
            return n + 1;
        });
        o.RegisterWorkflow<int, int>("Chain", async (ctx, n) =>
        {
            for (var i = 0; i < 3; i++)
            {
                n = await ctx.CallActivityAsync<int>("Double", n);
            }
            return n;
        });
        o.RegisterWorkflow<int, int>("FanOut", async (ctx, n) =>
        {
            var results = await Task.WhenAll(Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Double", i)));
            return results.Sum();
        });
        o.RegisterWorkflow<string, string>("Approval", async (ctx, _) =>
        {
            try
            {
                return await ctx.WaitForExternalEventAsync<string>("approve", TimeSpan.FromSeconds(30));
            }
            catch (TaskCanceledException)
            {
                return "timed out";
            }
        });
        o.RegisterWorkflow<int, int>("Nap", async (ctx, n) =>
        {
            await ctx.CreateTimer(TimeSpan.FromSeconds(2));
            return await ctx.CallActivityAsync<int>("Slow", n);
        });
        o.RegisterWorkflow<int, int>("Parent", async (ctx, n) => await ctx.CallChildWorkflowAsync<int>("Chain", n) + 1);
    }

    [Fact]
    public async Task The_library_worker_runs_chains_fan_outs_events_and_child_workflows()
    {
        await using var run = await WorkflowRun.StartAsync();
        using var app = await StartAppAsync(run.GrpcPort, o => Register(o));
        var client = app.Services.GetRequiredService<DaprWorkflowClient>();

        var chain = await client.ScheduleNewWorkflowAsync("Chain", input: 1);
        var fanOut = await client.ScheduleNewWorkflowAsync("FanOut", input: 50);
        var approval = await client.ScheduleNewWorkflowAsync("Approval", input: "order-7");
        var parent = await client.ScheduleNewWorkflowAsync("Parent", input: 2);
        await client.WaitForWorkflowStartAsync(approval);
        await client.RaiseEventAsync(approval, "approve", "alice");

        Assert.Equal(8, (await client.WaitForWorkflowCompletionAsync(chain)).ReadOutputAs<int>());
        Assert.Equal(Enumerable.Range(1, 50).Sum(i => i * 2), (await client.WaitForWorkflowCompletionAsync(fanOut)).ReadOutputAs<int>());
        Assert.Equal("alice", (await client.WaitForWorkflowCompletionAsync(approval)).ReadOutputAs<string>());
        Assert.Equal(17, (await client.WaitForWorkflowCompletionAsync(parent)).ReadOutputAs<int>());
        await app.StopAsync();
    }

    [Fact]
    public async Task A_run_survives_a_runtime_restart_while_the_app_keeps_running()
    {
        var first = await WorkflowRun.StartAsync();
        var directory = first.Directory;
        var port = first.GrpcPort;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var app = await StartAppAsync(port, o => Register(o, gate));
        var client = app.Services.GetRequiredService<DaprWorkflowClient>();

        var id = await client.ScheduleNewWorkflowAsync("Nap", input: 41);
        await client.WaitForWorkflowStartAsync(id);
        await first.StopAsync();

        // Same port, same database: the app's worker reconnects and the timer, then the activity, finish the run.
        await using var second = await WorkflowRun.StartAsync(directory, grpcPort: port);
        gate.SetResult();
        var state = await client.WaitForWorkflowCompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(42, state.ReadOutputAs<int>());
        await app.StopAsync();
    }
}

using AgentVerse.Dapr.Workflow;
using AgentVerse.Runtime;
using AgentVerse.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Dapr.Tests.Workflow;

/// <summary>A workflow outlives the worker process: a new worker replays its history and carries on.</summary>
public sealed class WorkflowWorkerRestartTests
{
    [Fact]
    public async Task A_waiting_workflow_completes_after_the_worker_is_replaced()
    {
        var directory = await ResourcesDirectory.CreateAsync(ComponentYaml.SqliteActorStore);
        try
        {
            await ReplaceWorkerMidWorkflowAsync(directory);
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }

    private static async Task ReplaceWorkerMidWorkflowAsync(string directory)
    {
        await using var runtime = await LocalRuntime.StartAsync(
            [new SidecarOptions { AppId = "wf-restart", ResourcesPaths = [directory] }], NullLoggerFactory.Instance, CancellationToken.None);
        var endpoint = new Uri($"http://127.0.0.1:{runtime["wf-restart"].GrpcPort}");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        string id;
        using (var first = await StartWorkerAsync(endpoint))
        {
            var client = first.Services.GetRequiredService<DaprWorkflowClient>();
            id = await client.ScheduleNewWorkflowAsync(nameof(ChainThenApprovalWorkflow), input: 5, cancellationToken: cts.Token);
            await WaitForCustomStatusAsync(client, id, cts.Token);
            await first.StopAsync(cts.Token);
        }

        using var second = await StartWorkerAsync(endpoint);
        var secondClient = second.Services.GetRequiredService<DaprWorkflowClient>();
        await secondClient.RaiseEventAsync(id, "approve", new Approval("carol", true), cts.Token);
        var state = await secondClient.WaitForWorkflowCompletionAsync(id, cancellationToken: cts.Token);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal("10 approved by carol", state.ReadOutputAs<string>());
        await second.StopAsync(cts.Token);
    }

    private static async Task<IHost> StartWorkerAsync(Uri endpoint)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDaprWorkflow(o =>
        {
            o.GrpcEndpoint = endpoint;
            o.RegisterWorkflow<ChainThenApprovalWorkflow>();
            o.RegisterActivity<DoubleActivity>();
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task WaitForCustomStatusAsync(DaprWorkflowClient client, string id, CancellationToken cancellationToken)
    {
        while ((await client.GetWorkflowStateAsync(id, cancellationToken: cancellationToken))?.SerializedCustomStatus is null)
        {
            await Task.Delay(100, cancellationToken);
        }
    }
}

public sealed class ChainThenApprovalWorkflow : Workflow<int, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, int input)
    {
        var doubled = await context.CallActivityAsync<int>(nameof(DoubleActivity), input);
        context.SetCustomStatus("waiting");
        var approval = await context.WaitForExternalEventAsync<Approval>("approve");
        return $"{doubled} approved by {approval.By}";
    }
}

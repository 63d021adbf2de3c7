using System.Diagnostics;
using AgentVerse.SdkApp;
using Dapr.Workflow;

namespace AgentVerse.DaprSdk.Tests;

/// <summary>Workflows written with Dapr.Workflow, run by its worker in the app and driven by DaprWorkflowClient.</summary>
[Collection(SdkAppTests.Name)]
public sealed class WorkflowTests(SdkAppRun run)
{
    private static string NewId() => "wf-" + Guid.NewGuid().ToString("N");

    private async Task<WorkflowState> RunToEndAsync(string workflow, object input, string? id = null)
    {
        id = await run.Workflows.ScheduleNewWorkflowAsync(workflow, id ?? NewId(), input);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await run.Workflows.WaitForWorkflowCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
    }

    [Fact]
    public async Task A_chain_of_activities_runs_in_order()
    {
        var state = await RunToEndAsync(nameof(ChainWorkflow), 1);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(4, state.ReadOutputAs<int>());
    }

    [Fact]
    public async Task Fifty_activities_fan_out_and_in()
    {
        var state = await RunToEndAsync(nameof(FanOutWorkflow), 50);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(Enumerable.Range(1, 50).Sum(i => i * i), state.ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_durable_timer_fires_after_its_delay()
    {
        var started = Stopwatch.StartNew();

        var state = await RunToEndAsync(nameof(TimerWorkflow), 500);

        Assert.Equal("woke", state.ReadOutputAs<string>());
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(500), $"woke after {started.Elapsed}");
    }

    [Fact]
    public async Task An_external_event_is_delivered_and_a_missing_one_times_out()
    {
        var id = await run.Workflows.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId(), 60_000);
        await run.Workflows.WaitForWorkflowStartAsync(id);
        await run.Workflows.RaiseEventAsync(id, "approval", "approved");
        var approved = await run.Workflows.WaitForWorkflowCompletionAsync(id);

        var late = await RunToEndAsync(nameof(ApprovalWorkflow), 300);

        Assert.Equal("approved", approved.ReadOutputAs<string>());
        Assert.Equal("timed out", late.ReadOutputAs<string>());
    }

    [Fact]
    public async Task A_terminated_workflow_ends_terminated_and_can_be_purged()
    {
        var id = await run.Workflows.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId(), 600_000);
        await run.Workflows.WaitForWorkflowStartAsync(id);

        await run.Workflows.TerminateWorkflowAsync(id, "stopped");
        var state = await run.Workflows.WaitForWorkflowCompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Terminated, state.RuntimeStatus);
        Assert.True(await run.Workflows.PurgeInstanceAsync(id));
        var gone = await run.Workflows.GetWorkflowStateAsync(id);
        Assert.True(gone is null || !gone.Exists);
    }
}

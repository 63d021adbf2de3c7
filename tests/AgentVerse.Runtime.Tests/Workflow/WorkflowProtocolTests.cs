using System.Net;
using System.Text;
using Grpc.Core;
using Dapr.DurableTask.Protobuf;
using AgentVerse.Runtime.Tests.Sidecar;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>gRPC-level behaviours of the workflow service: tokens, deadlines, stream limits, recursive purge.</summary>
public sealed class WorkflowProtocolTests
{
    [Fact]
    public async Task The_gRPC_port_requires_the_api_token_when_one_is_set()
    {
        await using var run = await WorkflowRun.StartAsync(apiToken: "s3cret");
        using var anonymous = new GrpcCalls(new Uri($"http://127.0.0.1:{run.GrpcPort}"));

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            anonymous.UnaryAsync("/TaskHubSidecarService/GetInstance", new GetInstanceRequest { InstanceId = "x" }, GetInstanceResponse.Parser));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        Assert.False((await run.GetAsync("x")).Exists);
    }

    [Fact]
    public async Task A_wait_past_the_callers_deadline_ends_with_DEADLINE_EXCEEDED()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Approve", WorkflowEngineTests.Approval(null)).Start();
        var started = await run.StartAsync("Approve");

        var error = await Assert.ThrowsAsync<RpcException>(() => run.WaitForCompletionAsync(started.InstanceId, seconds: 0.5));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Hundreds_of_waits_share_one_connection()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Approve", WorkflowEngineTests.Approval(null)).Start();
        var ids = new List<string>();
        for (var i = 0; i < 150; i++)
        {
            ids.Add((await run.StartAsync("Approve", startAt: DateTimeOffset.UnixEpoch)).InstanceId);
        }
        using var oneConnection = new GrpcCalls(new Uri($"http://127.0.0.1:{run.GrpcPort}"), handler:
            new SocketsHttpHandler { EnableMultipleHttp2Connections = false });

        var waits = ids.Select(id => oneConnection.UnaryAsync("/TaskHubSidecarService/WaitForInstanceCompletion",
            new GetInstanceRequest { InstanceId = id, GetInputsAndOutputs = true }, GetInstanceResponse.Parser, TimeSpan.FromSeconds(60))).ToList();
        await Task.Delay(200);
        foreach (var id in ids)
        {
            await run.CallAsync("RaiseEvent", new RaiseEventRequest { InstanceId = id, Name = "approval", Input = "\"ok\"" }, RaiseEventResponse.Parser);
        }

        var done = await Task.WhenAll(waits);
        Assert.All(done, d => Assert.Equal("\"ok\"", d.WorkflowState.Output));
    }

    [Fact]
    public async Task Purge_over_HTTP_also_removes_finished_child_workflows()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker()
            .Workflow("Child", t => [Actions.Complete(0, t.Input)])
            .Workflow("Parent", t =>
                t.IsFirst ? [Actions.CallChild(0, "Child", "1", "kid-1")]
                : t.All.Any(e => e.ChildWorkflowInstanceCompleted is not null) ? [Actions.Complete(1, "\"done\"")]
                : [])
            .Start();
        await run.StartAsync("Parent", instanceId: "mom");
        await run.WaitForCompletionAsync("mom");

        using var purge = await run.Http.PostAsync("v1.0/workflows/dapr/mom/purge", new StringContent("", Encoding.UTF8));

        Assert.Equal(HttpStatusCode.Accepted, purge.StatusCode);
        Assert.False((await run.GetAsync("mom")).Exists);
        Assert.False((await run.GetAsync("kid-1")).Exists);
    }

    [Fact]
    public async Task Terminating_a_parent_over_HTTP_terminates_its_running_child()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker()
            .Workflow("Approve", WorkflowEngineTests.Approval(null))
            .Workflow("Parent", t => t.IsFirst ? [Actions.CallChild(0, "Approve", null, "waiting-kid")] : [])
            .Start();
        await run.StartAsync("Parent", instanceId: "dad");
        await TestApp.EventuallyAsync(() => run.GetAsync("waiting-kid").Result.WorkflowState?.WorkflowStatus == OrchestrationStatus.Running);

        using var terminate = await run.Http.PostAsync("v1.0/workflows/dapr/dad/terminate", null);

        Assert.Equal(HttpStatusCode.Accepted, terminate.StatusCode);
        Assert.Equal(OrchestrationStatus.Terminated, (await run.WaitForCompletionAsync("dad")).WorkflowState.WorkflowStatus);
        Assert.Equal(OrchestrationStatus.Terminated, (await run.WaitForCompletionAsync("waiting-kid")).WorkflowState.WorkflowStatus);
    }

    [Fact]
    public async Task A_message_over_the_body_limit_is_RESOURCE_EXHAUSTED()
    {
        await using var run = await WorkflowRun.StartAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            run.StartAsync("Big", new string('x', 5 * 1024 * 1024)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }
}

using System.Globalization;
using Grpc.Core;
using Dapr.DurableTask.Protobuf;
using AgentVerse.Runtime.Tests.Sidecar;
using AgentVerse.Testing;
using Google.Protobuf.WellKnownTypes;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>The durabletask gRPC service, driven by a scripted worker over real h2c.</summary>
public sealed class WorkflowEngineTests
{
    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static int ParseNum(string? s) => int.Parse(s!, CultureInfo.InvariantCulture);

    // Doubles its input three times, one activity after the other.
    internal static IEnumerable<WorkflowAction> Chain(Turn t)
    {
        var results = t.Results;
        if (results.Count == 3)
        {
            yield return Actions.Complete(3, results[2]);
        }
        else if (t.Scheduled.Count == results.Count)
        {
            yield return Actions.CallActivity(results.Count, "Double", results.Count == 0 ? t.Input : results[results.Count - 1]);
        }
    }

    // Squares 0..n-1 in parallel and sums the results.
    internal static IEnumerable<WorkflowAction> FanOut(Turn t)
    {
        var n = ParseNum(t.Input);
        if (t.IsFirst)
        {
            return Enumerable.Range(0, n).Select(i => Actions.CallActivity(i, "Square", Num(i)));
        }
        return t.Results.Count == n ? [Actions.Complete(n, Num(t.Results.Values.Sum(ParseNum)))] : [];
    }

    private static ScriptedWorker MathWorker(WorkflowRun run) => run.Worker()
        .Workflow("Chain", Chain)
        .Workflow("FanOut", FanOut)
        .Activity("Double", s => Num(ParseNum(s) * 2))
        .Activity("Square", s => Num(ParseNum(s) * ParseNum(s)));

    [Fact]
    public async Task A_chain_of_activities_runs_in_order_and_completes_with_the_last_result()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = MathWorker(run).Start();

        var started = await run.StartAsync("Chain", "1", "chain-1");
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("chain-1", started.InstanceId);
        Assert.True(done.Exists);
        Assert.Equal(OrchestrationStatus.Completed, done.WorkflowState.WorkflowStatus);
        Assert.Equal("8", done.WorkflowState.Output);
        Assert.Equal("1", done.WorkflowState.Input);
        Assert.Equal("Chain", done.WorkflowState.Name);
        Assert.NotNull(done.WorkflowState.CompletedTimestamp);
        Assert.Equal(3, worker.Received.Count(i => i.ActivityRequest is not null));
    }

    [Fact]
    public async Task A_fan_out_of_fifty_activities_fans_in_to_one_result()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = MathWorker(run).Start();

        var started = await run.StartAsync("FanOut", "50");
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal(OrchestrationStatus.Completed, done.WorkflowState.WorkflowStatus);
        Assert.Equal(Num(Enumerable.Range(0, 50).Sum(i => i * i)), done.WorkflowState.Output);
        var activities = worker.Received.Where(i => i.ActivityRequest is not null).Select(i => i.ActivityRequest.TaskId).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 50), activities);
    }

    [Fact]
    public async Task Every_turn_starts_with_OrchestratorStarted_and_history_grows_by_action_ids()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = MathWorker(run).Start();

        var started = await run.StartAsync("Chain", "1");
        await run.WaitForCompletionAsync(started.InstanceId);

        var turns = worker.Received.Where(i => i.WorkflowRequest is not null).Select(i => i.WorkflowRequest).ToList();
        Assert.All(turns, t => Assert.NotNull(t.NewEvents[0].WorkflowStarted));
        Assert.NotNull(turns[0].NewEvents[1].ExecutionStarted);
        Assert.Empty(turns[0].PastEvents);
        var last = turns[^1];
        var scheduled = last.PastEvents.Where(e => e.TaskScheduled is not null).Select(e => e.EventId).ToList();
        Assert.Equal([0, 1, 2], scheduled);
        Assert.All(last.NewEvents.Skip(1), e => Assert.Equal(-1, e.EventId));

        var history = await run.CallAsync("GetInstanceHistory", new GetInstanceHistoryRequest { InstanceId = started.InstanceId }, GetInstanceHistoryResponse.Parser);
        Assert.NotNull(history.Events[^1].ExecutionCompleted);
        Assert.Equal(3, history.Events[^1].EventId);
    }

    [Fact]
    public async Task A_failing_activity_reaches_the_workflow_as_TaskFailed()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker()
            .Workflow("Fragile", t => t.IsFirst ? [Actions.CallActivity(0, "Boom", null)]
                : t.Failures.Any() ? [Actions.Complete(1, "\"" + t.Failures.First().FailureDetails.ErrorMessage + "\"")] : [])
            .Activity("Boom", string? (_) => throw new InvalidOperationException("kaput"))
            .Start();

        var started = await run.StartAsync("Fragile");
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("\"kaput\"", done.WorkflowState.Output);
    }

    [Fact]
    public async Task A_workflow_that_fails_reports_FAILED_with_its_failure_details()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Bad", IEnumerable<WorkflowAction> (_) => throw new InvalidOperationException("bad input")).Start();

        var started = await run.StartAsync("Bad");
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal(OrchestrationStatus.Failed, done.WorkflowState.WorkflowStatus);
        Assert.Equal("bad input", done.WorkflowState.FailureDetails.ErrorMessage);
    }

    [Fact]
    public async Task A_durable_timer_fires_after_its_due_time()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker()
            .Workflow("Sleepy", t => t.IsFirst ? [Actions.Timer(0, t.Now.AddSeconds(1))] : t.TimerFired(0) ? [Actions.Complete(1, "\"woke\"")] : [])
            .Start();

        var before = DateTimeOffset.UtcNow;
        var started = await run.StartAsync("Sleepy");
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("\"woke\"", done.WorkflowState.Output);
        Assert.True(DateTimeOffset.UtcNow - before >= TimeSpan.FromSeconds(0.9));
        var fired = worker.Received.Select(i => i.WorkflowRequest).Last(r => r is not null).NewEvents.Single(e => e.TimerFired is not null);
        Assert.Equal(0, fired.TimerFired.TimerId);
    }

    // Waits for "approval"; with a timeout it also arms timer 0 and gives up when it fires first.
    internal static Func<Turn, IEnumerable<WorkflowAction>> Approval(TimeSpan? timeout) => t =>
    {
        if (t.Event("approval") is { } approval)
        {
            return [Actions.Complete(1, approval.Input)];
        }
        if (timeout is { } wait && t.IsFirst)
        {
            return [Actions.Timer(0, t.Now + wait)];
        }
        return t.TimerFired(0) ? [Actions.Complete(1, "\"timed out\"")] : [];
    };

    [Fact]
    public async Task An_external_event_resumes_a_waiting_workflow()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Approve", Approval(null)).Start();

        var started = await run.StartAsync("Approve");
        await run.CallAsync("RaiseEvent", new RaiseEventRequest { InstanceId = started.InstanceId, Name = "Approval", Input = "\"yes\"" }, RaiseEventResponse.Parser);
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("\"yes\"", done.WorkflowState.Output);
    }

    [Fact]
    public async Task An_external_event_wait_with_a_timeout_times_out_without_the_event()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Approve", Approval(TimeSpan.FromSeconds(1))).Start();

        var started = await run.StartAsync("Approve");
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("\"timed out\"", done.WorkflowState.Output);
    }

    [Fact]
    public async Task An_external_event_that_beats_its_timeout_wins()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Approve", Approval(TimeSpan.FromSeconds(30))).Start();

        var started = await run.StartAsync("Approve");
        await run.CallAsync("RaiseEvent", new RaiseEventRequest { InstanceId = started.InstanceId, Name = "approval", Input = "\"in time\"" }, RaiseEventResponse.Parser);
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("\"in time\"", done.WorkflowState.Output);
    }

    [Fact]
    public async Task Terminate_waits_until_the_workflow_is_terminated()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Approve", Approval(null)).Start();
        var started = await run.StartAsync("Approve");

        await run.CallAsync("TerminateInstance", new TerminateRequest { InstanceId = started.InstanceId, Output = "\"stopped\"" }, TerminateResponse.Parser);

        var state = (await run.GetAsync(started.InstanceId)).WorkflowState;
        Assert.Equal(OrchestrationStatus.Terminated, state.WorkflowStatus);
        Assert.Equal("\"stopped\"", state.Output);
    }

    [Fact]
    public async Task Suspend_and_resume_block_until_applied_and_buffer_events_meanwhile()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker().Workflow("Approve", Approval(null)).Start();
        var started = await run.StartAsync("Approve");

        await run.CallAsync("SuspendInstance", new SuspendRequest { InstanceId = started.InstanceId, Reason = "maintenance" }, SuspendResponse.Parser);
        Assert.Equal(OrchestrationStatus.Suspended, (await run.GetAsync(started.InstanceId)).WorkflowState.WorkflowStatus);

        await run.CallAsync("RaiseEvent", new RaiseEventRequest { InstanceId = started.InstanceId, Name = "approval", Input = "\"later\"" }, RaiseEventResponse.Parser);
        await Task.Delay(300);
        Assert.Equal(OrchestrationStatus.Suspended, (await run.GetAsync(started.InstanceId)).WorkflowState.WorkflowStatus);

        await run.CallAsync("ResumeInstance", new ResumeRequest { InstanceId = started.InstanceId }, ResumeResponse.Parser);
        var done = await run.WaitForCompletionAsync(started.InstanceId);
        Assert.Equal("\"later\"", done.WorkflowState.Output);
    }

    [Fact]
    public async Task Purge_removes_a_finished_instance_and_refuses_a_running_one()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = MathWorker(run).Workflow("Approve", Approval(null)).Start();
        var finished = await run.StartAsync("Chain", "1");
        await run.WaitForCompletionAsync(finished.InstanceId);
        var running = await run.StartAsync("Approve");

        var purged = await run.CallAsync("PurgeInstances", new PurgeInstancesRequest { InstanceId = finished.InstanceId }, PurgeInstancesResponse.Parser);
        Assert.Equal(1, purged.DeletedInstanceCount);
        Assert.False((await run.GetAsync(finished.InstanceId)).Exists);

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            run.CallAsync("PurgeInstances", new PurgeInstancesRequest { InstanceId = running.InstanceId }, PurgeInstancesResponse.Parser));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            run.CallAsync("PurgeInstances", new PurgeInstancesRequest { InstanceId = "nope" }, PurgeInstancesResponse.Parser));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var filter = await Assert.ThrowsAsync<RpcException>(() =>
            run.CallAsync("PurgeInstances", new PurgeInstancesRequest { PurgeInstanceFilter = new PurgeInstanceFilter() }, PurgeInstancesResponse.Parser));
        Assert.Contains("multi-instance purge is not implemented", filter.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContinueAsNew_restarts_with_a_fresh_history_and_the_new_input()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = run.Worker()
            .Workflow("Counter", t => ParseNum(t.Input) < 3 ? [Actions.ContinueAsNew(0, Num(ParseNum(t.Input) + 1))] : [Actions.Complete(0, t.Input)])
            .Start();

        var started = await run.StartAsync("Counter", "0");
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("3", done.WorkflowState.Output);
        var turns = worker.Received.Where(i => i.WorkflowRequest is not null).Select(i => i.WorkflowRequest).ToList();
        Assert.Equal(4, turns.Count);
        Assert.All(turns, t => Assert.Empty(t.PastEvents));
        Assert.Equal(4, turns.Select(t => t.ExecutionId).Distinct().Count());
    }

    [Fact]
    public async Task A_child_workflow_result_returns_to_its_parent()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = MathWorker(run)
            .Workflow("Parent", t =>
                t.IsFirst ? [Actions.CallChild(0, "Chain", "2")]
                : t.All.FirstOrDefault(e => e.ChildWorkflowInstanceCompleted is not null) is { } done ? [Actions.Complete(1, done.ChildWorkflowInstanceCompleted.Result)]
                : [])
            .Start();

        var started = await run.StartAsync("Parent");
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("16", done.WorkflowState.Output);
        Assert.True((await run.GetAsync(started.InstanceId + ":0000")).Exists);
    }

    [Fact]
    public async Task StartInstance_returns_only_once_a_worker_ran_the_first_turn()
    {
        await using var run = await WorkflowRun.StartAsync();

        var start = run.StartAsync("Approve", instanceId: "waits-for-worker");
        await Task.Delay(500);
        Assert.False(start.IsCompleted);
        Assert.Equal(OrchestrationStatus.Pending, (await run.GetAsync("waits-for-worker")).WorkflowState.WorkflowStatus);

        await using var worker = run.Worker().Workflow("Approve", Approval(null)).Start();
        await start;
        Assert.Equal(OrchestrationStatus.Running, (await run.GetAsync("waits-for-worker")).WorkflowState.WorkflowStatus);
    }

    [Fact]
    public async Task A_scheduled_start_in_the_future_waits_for_its_time()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = MathWorker(run).Start();

        var started = await run.StartAsync("Chain", "1", startAt: DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(OrchestrationStatus.Pending, (await run.GetAsync(started.InstanceId)).WorkflowState.WorkflowStatus);
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("8", done.WorkflowState.Output);
        Assert.True(done.WorkflowState.LastUpdatedTimestamp.ToDateTimeOffset() - done.WorkflowState.CreatedTimestamp.ToDateTimeOffset() >= TimeSpan.FromSeconds(0.9));
    }

    [Fact]
    public async Task Starting_a_running_instance_again_fails_but_a_finished_id_can_be_reused()
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = MathWorker(run).Workflow("Approve", Approval(null)).Start();
        await run.StartAsync("Approve", instanceId: "dup");

        var duplicate = await Assert.ThrowsAsync<RpcException>(() => run.StartAsync("Approve", instanceId: "dup"));
        Assert.Contains("an active workflow with ID 'dup' already exists", duplicate.Status.Detail, StringComparison.Ordinal);

        await run.StartAsync("Chain", "1", "reused");
        await run.WaitForCompletionAsync("reused");
        await run.StartAsync("Chain", "2", "reused");
        Assert.Equal("16", (await run.WaitForCompletionAsync("reused")).WorkflowState.Output);
    }

    [Theory]
    [InlineData("order:42")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task The_gRPC_service_takes_ids_the_HTTP_API_would_refuse_as_daprd_does(string instanceId)
    {
        await using var run = await WorkflowRun.StartAsync();
        await using var worker = MathWorker(run).Start();

        await run.StartAsync("Chain", "1", instanceId);

        Assert.Equal("8", (await run.WaitForCompletionAsync(instanceId)).WorkflowState.Output);
    }

    [Fact]
    public async Task Unknown_instances_do_not_exist_and_events_to_them_are_NOT_FOUND()
    {
        await using var run = await WorkflowRun.StartAsync();

        Assert.False((await run.GetAsync("ghost")).Exists);
        var raise = await Assert.ThrowsAsync<RpcException>(() =>
            run.CallAsync("RaiseEvent", new RaiseEventRequest { InstanceId = "ghost", Name = "x" }, RaiseEventResponse.Parser));
        Assert.Equal(StatusCode.NotFound, raise.StatusCode);
    }

    [Fact]
    public async Task Unknown_methods_are_UNIMPLEMENTED_and_Hello_answers()
    {
        await using var run = await WorkflowRun.StartAsync();

        await run.CallAsync("Hello", new Empty(), Empty.Parser);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => run.CallAsync("RewindInstance", new Empty(), Empty.Parser));
        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);
        var daprMethod = await Assert.ThrowsAsync<RpcException>(() =>
            run.Grpc.UnaryAsync("/dapr.proto.runtime.v1.Dapr/TryLockAlpha1", new Empty(), Empty.Parser, TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.Unimplemented, daprMethod.StatusCode);
        var otherService = await Assert.ThrowsAsync<RpcException>(() =>
            run.Grpc.UnaryAsync("/example.Unknown/Call", new Empty(), Empty.Parser, TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.Unimplemented, otherService.StatusCode);
    }

    [Fact]
    public async Task Without_an_actor_state_store_workflow_calls_fail_clearly()
    {
        await using var run = await WorkflowRun.StartAsync(resources: ComponentYaml.InMemoryState);

        var error = await Assert.ThrowsAsync<RpcException>(() => run.StartAsync("Chain", "1"));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("actorStateStore", error.Status.Detail, StringComparison.Ordinal);
    }
}

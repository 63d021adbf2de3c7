using System.Globalization;
using Dapr.DurableTask.Protobuf;
using AgentVerse.Runtime.Tests.Sidecar;
using AgentVerse.Testing;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>Redelivery to other workers, and runs that outlive the runtime process.</summary>
public sealed class WorkflowDurabilityTests
{
    private static Task UntilAsync(Func<bool> condition, string because) => TestApp.EventuallyAsync(condition, 15, because);

    private static int Connected(WorkflowRun run) => run.Runtime.Find(WorkflowRun.AppId)!.Workflows.Dispatcher.ConnectedWorkers;

    private static ScriptedWorker ChainWorker(WorkflowRun run) => run.Worker()
        .Workflow("Chain", WorkflowEngineTests.Chain)
        .Activity("Double", s => (int.Parse(s!, CultureInfo.InvariantCulture) * 2).ToString(CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_workflow_turn_goes_to_the_next_worker_when_the_stream_drops()
    {
        await using var run = await WorkflowRun.StartAsync();
        var silent = run.Worker().Workflow("Chain", WorkflowEngineTests.Chain);
        silent.AnswersWorkflows = false;
        silent.Start();
        await UntilAsync(() => Connected(run) == 1, "the first worker connects");

        var started = await run.StartAsync("Chain", "1", startAt: DateTimeOffset.UnixEpoch);
        await UntilAsync(() => !silent.Received.IsEmpty, "the first worker gets the turn");
        await silent.DisposeAsync();

        await using var rescuer = ChainWorker(run).Start();
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("8", done.WorkflowState.Output);
        Assert.Contains(rescuer.Received, i => i.WorkflowRequest?.NewEvents.Any(e => e.ExecutionStarted is not null) == true);
    }

    [Fact]
    public async Task An_activity_goes_to_the_next_worker_when_the_stream_drops()
    {
        await using var run = await WorkflowRun.StartAsync();
        var never = new TaskCompletionSource<string?>();
        var stuck = run.Worker().Workflow("Chain", WorkflowEngineTests.Chain).Activity("Double", _ => never.Task).Start();
        await UntilAsync(() => Connected(run) == 1, "the first worker connects");

        var started = await run.StartAsync("Chain", "1");
        await UntilAsync(() => stuck.Received.Any(i => i.ActivityRequest is not null), "the first worker gets the activity");
        await stuck.DisposeAsync();

        await using var rescuer = ChainWorker(run).Start();
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("8", done.WorkflowState.Output);
    }

    [Fact]
    public async Task A_worker_that_never_answers_loses_the_turn_after_the_timeout()
    {
        await using var run = await WorkflowRun.StartAsync(workItemTimeout: TimeSpan.FromSeconds(1));
        // It still runs activities: only its workflow turns hang.
        await using var hung = ChainWorker(run);
        hung.AnswersWorkflows = false;
        hung.Start();
        await UntilAsync(() => Connected(run) == 1, "the hung worker connects");
        var started = await run.StartAsync("Chain", "1", startAt: DateTimeOffset.UnixEpoch);
        await UntilAsync(() => !hung.Received.IsEmpty, "the hung worker gets the turn");

        await using var healthy = ChainWorker(run).Start();
        var done = await run.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal("8", done.WorkflowState.Output);
    }

    [Fact]
    public async Task A_workflow_waiting_on_a_timer_completes_after_the_runtime_restarts()
    {
        var first = await WorkflowRun.StartAsync();
        var directory = first.Directory;
        string instanceId;
        await using (var worker = first.Worker()
            .Workflow("Sleepy", t => t.IsFirst ? [Actions.Timer(0, t.Now.AddSeconds(2))] : t.TimerFired(0) ? [Actions.Complete(1, "\"woke\"")] : [])
            .Start())
        {
            instanceId = (await first.StartAsync("Sleepy")).InstanceId;
        }
        await first.StopAsync();

        await using var second = await WorkflowRun.StartAsync(directory);
        Assert.Equal(OrchestrationStatus.Running, (await second.GetAsync(instanceId)).WorkflowState.WorkflowStatus);
        await using var again = second.Worker()
            .Workflow("Sleepy", t => t.IsFirst ? [Actions.Timer(0, t.Now.AddSeconds(2))] : t.TimerFired(0) ? [Actions.Complete(1, "\"woke\"")] : [])
            .Start();
        var done = await second.WaitForCompletionAsync(instanceId);

        Assert.Equal("\"woke\"", done.WorkflowState.Output);
        Assert.DoesNotContain(again.Received, i => i.WorkflowRequest?.NewEvents.Any(e => e.ExecutionStarted is not null) == true);
    }

    [Fact]
    public async Task A_scheduled_activity_runs_after_the_runtime_restarts()
    {
        var first = await WorkflowRun.StartAsync();
        var directory = first.Directory;
        var never = new TaskCompletionSource<string?>();
        string instanceId;
        await using (var stuck = first.Worker().Workflow("Chain", WorkflowEngineTests.Chain).Activity("Double", _ => never.Task).Start())
        {
            instanceId = (await first.StartAsync("Chain", "1")).InstanceId;
            await UntilAsync(() => stuck.Received.Any(i => i.ActivityRequest is not null), "the activity is dispatched");
        }
        await first.StopAsync();

        await using var second = await WorkflowRun.StartAsync(directory);
        await using var worker = ChainWorker(second).Start();
        var done = await second.WaitForCompletionAsync(instanceId);

        Assert.Equal("8", done.WorkflowState.Output);
    }

    [Fact]
    public async Task A_workflow_started_without_a_worker_runs_when_one_connects_to_a_restarted_runtime()
    {
        var first = await WorkflowRun.StartAsync();
        var directory = first.Directory;
        var instanceId = (await first.StartAsync("Chain", "1", startAt: DateTimeOffset.UnixEpoch)).InstanceId;
        await first.StopAsync();

        await using var second = await WorkflowRun.StartAsync(directory);
        await using var worker = ChainWorker(second).Start();
        var done = await second.WaitForCompletionAsync(instanceId);

        Assert.Equal("8", done.WorkflowState.Output);
        Assert.Equal("1", done.WorkflowState.Input);
    }

    [Fact]
    public async Task A_child_workflow_lost_before_it_was_created_is_recreated_on_restart()
    {
        static ScriptedWorker Family(WorkflowRun run) => run.Worker()
            .Workflow("Approve", WorkflowEngineTests.Approval(null))
            .Workflow("Parent", t =>
                t.IsFirst ? [Actions.CallChild(0, "Approve", null, "kid")]
                : t.All.FirstOrDefault(e => e.ChildWorkflowInstanceCompleted is not null) is { } done ? [Actions.Complete(1, done.ChildWorkflowInstanceCompleted.Result)]
                : []);
        var first = await WorkflowRun.StartAsync();
        var directory = first.Directory;
        await using (var worker = Family(first).Start())
        {
            await first.StartAsync("Parent", instanceId: "mom");
            await UntilAsync(() => first.GetAsync("kid").Result.Exists, "the child starts");
        }
        await first.StopAsync();

        // As if the runtime had died between the parent's step and the child's creation.
        var definition = State.TestComponents.Definition("state.sqlite", "v1", ("connectionString", Path.Combine(directory, "workflows.db")));
        await using (var store = AgentVerse.Runtime.State.SqliteStateStore.Create(definition, TimeProvider.System))
        {
            await store.InitAsync(CancellationToken.None);
            await store.DeleteAsync(new AgentVerse.Runtime.State.StateDeleteRequest($"{WorkflowRun.AppId}||dapr.internal.default.{WorkflowRun.AppId}.workflow||kid||state"), CancellationToken.None);
        }

        await using var second = await WorkflowRun.StartAsync(directory);
        await using var again = Family(second).Start();
        await UntilAsync(() => second.GetAsync("kid").Result.Exists, "the child is recreated");
        await second.CallAsync("RaiseEvent", new RaiseEventRequest { InstanceId = "kid", Name = "approval", Input = "\"yes\"" }, RaiseEventResponse.Parser);

        Assert.Equal("\"yes\"", (await second.WaitForCompletionAsync("mom")).WorkflowState.Output);
    }

    [Fact]
    public async Task Many_workflows_finish_correctly_while_workers_keep_dropping_their_streams()
    {
        await using var run = await WorkflowRun.StartAsync();
        static ScriptedWorker Math(WorkflowRun run) => run.Worker()
            .Workflow("FanOut", WorkflowEngineTests.FanOut)
            .Workflow("Chain", WorkflowEngineTests.Chain)
            // Slow enough that streams drop with activities in flight.
            .Activity("Square", async s =>
            {
                await Task.Delay(Random.Shared.Next(50));
                return (int.Parse(s!, CultureInfo.InvariantCulture) * int.Parse(s!, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
            })
            .Activity("Double", async s =>
            {
                await Task.Delay(Random.Shared.Next(50));
                return (int.Parse(s!, CultureInfo.InvariantCulture) * 2).ToString(CultureInfo.InvariantCulture);
            });

        using var stop = new CancellationTokenSource();
        var churn = Task.Run(async () =>
        {
            // Two workers at a time; every 150 ms the older one drops its stream mid-work and a new one connects.
            var workers = new Queue<ScriptedWorker>([Math(run).Start(), Math(run).Start()]);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(150);
                await workers.Dequeue().DisposeAsync();
                workers.Enqueue(Math(run).Start());
            }
            while (workers.Count > 0)
            {
                await workers.Dequeue().DisposeAsync();
            }
        });

        var ids = new List<(string Id, string Expected)>();
        for (var i = 0; i < 40; i++)
        {
            var fanOut = await run.StartAsync("FanOut", "10", startAt: DateTimeOffset.UnixEpoch);
            ids.Add((fanOut.InstanceId, "285"));
            var chain = await run.StartAsync("Chain", "1", startAt: DateTimeOffset.UnixEpoch);
            ids.Add((chain.InstanceId, "8"));
        }
        var results = await Task.WhenAll(ids.Select(async x => (x.Expected, State: (await run.WaitForCompletionAsync(x.Id, 60)).WorkflowState)));
        await stop.CancelAsync();
        await churn;

        Assert.All(results, r =>
        {
            Assert.Equal(OrchestrationStatus.Completed, r.State.WorkflowStatus);
            Assert.Equal(r.Expected, r.State.Output);
        });
    }

    [Fact]
    public async Task Apps_sharing_one_actor_store_keep_their_workflows_apart()
    {
        var directory = TempDirectory.Create();
        await using var run = await RuntimeRun.StartAsync([ComponentYaml.SqliteActorStore(directory)], new AppSpec("left"), new AppSpec("right"));
        using var left = new GrpcCalls(new Uri($"http://127.0.0.1:{run.Runtime["left"].GrpcPort}"));
        using var right = new GrpcCalls(new Uri($"http://127.0.0.1:{run.Runtime["right"].GrpcPort}"));
        await using var leftWorker = new ScriptedWorker(left).Workflow("Who", _ => [Actions.Complete(0, "\"left\"")]).Start();
        await using var rightWorker = new ScriptedWorker(right).Workflow("Who", _ => [Actions.Complete(0, "\"right\"")]).Start();

        foreach (var grpc in new[] { left, right })
        {
            await grpc.UnaryAsync("/TaskHubSidecarService/StartInstance", new CreateInstanceRequest { InstanceId = "same-id", Name = "Who" },
                CreateInstanceResponse.Parser, TimeSpan.FromSeconds(30));
        }
        async Task<string?> OutputAsync(GrpcCalls grpc) =>
            (await grpc.UnaryAsync("/TaskHubSidecarService/WaitForInstanceCompletion", new GetInstanceRequest { InstanceId = "same-id", GetInputsAndOutputs = true },
                GetInstanceResponse.Parser, TimeSpan.FromSeconds(30))).WorkflowState.Output;

        Assert.Equal("\"left\"", await OutputAsync(left));
        Assert.Equal("\"right\"", await OutputAsync(right));
        Directory.Delete(directory, recursive: true);
    }
}

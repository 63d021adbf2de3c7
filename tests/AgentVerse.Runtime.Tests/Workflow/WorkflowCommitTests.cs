using Dapr.DurableTask.Protobuf;
using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.Sidecar;
using AgentVerse.Runtime.State;
using AgentVerse.Runtime.Tests.State;
using AgentVerse.Runtime.Workflow;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>A step whose commit fails leaves no trace and runs again (the engine driven directly, over a store that fails on demand).</summary>
public sealed class WorkflowCommitTests
{
    private sealed class FlakyStore(IStateStore inner) : IStateStore
    {
        public int FailNextTransactions;

        public StateStoreFeatures Features => inner.Features;
        public Task InitAsync(CancellationToken cancellationToken) => inner.InitAsync(cancellationToken);
        public Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);
        public Task SetAsync(StateSetRequest request, CancellationToken cancellationToken) => inner.SetAsync(request, cancellationToken);
        public Task DeleteAsync(StateDeleteRequest request, CancellationToken cancellationToken) => inner.DeleteAsync(request, cancellationToken);

        public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken) =>
            Interlocked.Decrement(ref FailNextTransactions) >= 0
                ? throw new IOException("disk on fire")
                : inner.ExecuteTransactionAsync(operations, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task A_turn_whose_commit_fails_is_not_applied_and_runs_again()
    {
        var definition = TestComponents.Definition("state.in-memory", "v1", ("actorStateStore", "true"));
        await using var store = new FlakyStore(InMemoryStateStore.Create(definition, TimeProvider.System));
        await store.InitAsync(CancellationToken.None);
        var binding = new StateStoreBinding(new LoadedComponent(definition, store, ""), "app");
        await using var engine = new WorkflowEngine("app", [binding], NullLogger.Instance, TimeProvider.System, TimeSpan.FromMinutes(1), CancellationToken.None);
        await engine.StartAsync();
        await engine.StartInstanceAsync(new CreateInstanceRequest { InstanceId = "w", Name = "Once" }, waitForStart: false, CancellationToken.None);

        var turns = 0;
        var activities = new List<ActivityRequest>();
        using var stop = new CancellationTokenSource();
        var worker = engine.Dispatcher.ServeAsync((item, _) =>
        {
            if (item.WorkflowRequest is { } request)
            {
                if (Interlocked.Increment(ref turns) == 1)
                {
                    store.FailNextTransactions = 1;
                }
                var response = new WorkflowResponse { InstanceId = request.InstanceId };
                if (request.PastEvents.Count == 0)
                {
                    response.Actions.Add(Actions.CallActivity(0, "Step", null));
                }
                engine.CompleteOrchestratorTask(response);
            }
            else
            {
                lock (activities)
                {
                    activities.Add(item.ActivityRequest);
                }
            }
            return Task.CompletedTask;
        }, stop.Token);

        await Sidecar.TestApp.EventuallyAsync(() => { lock (activities) { return activities.Count > 0; } }, 10, "the activity is dispatched after the retried turn");
        var record = await engine.GetAsync("w", CancellationToken.None);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => worker);

        Assert.Equal(2, turns);
        Assert.Single(activities);
        Assert.Equal(OrchestrationStatus.Running, record!.Status);
        Assert.Single(record.History, e => e.TaskScheduled is not null);
        Assert.Single(record.History, e => e.ExecutionStarted is not null);
        Assert.Empty(record.Inbox);
    }

    [Fact]
    public async Task An_activity_result_that_cannot_be_recorded_makes_the_activity_run_again()
    {
        var definition = TestComponents.Definition("state.in-memory", "v1", ("actorStateStore", "true"));
        await using var store = new FlakyStore(InMemoryStateStore.Create(definition, TimeProvider.System));
        await store.InitAsync(CancellationToken.None);
        var binding = new StateStoreBinding(new LoadedComponent(definition, store, ""), "app");
        await using var engine = new WorkflowEngine("app", [binding], NullLogger.Instance, TimeProvider.System, TimeSpan.FromMinutes(1), CancellationToken.None);
        await engine.StartAsync();
        await engine.StartInstanceAsync(new CreateInstanceRequest { InstanceId = "w", Name = "Once" }, waitForStart: false, CancellationToken.None);

        var runs = 0;
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var worker = engine.Dispatcher.ServeAsync(async (item, _) =>
        {
            if (item.WorkflowRequest is { } request)
            {
                var response = new WorkflowResponse { InstanceId = request.InstanceId };
                if (request.PastEvents.Count == 0)
                {
                    response.Actions.Add(Actions.CallActivity(0, "Step", null));
                }
                else if (request.NewEvents.Any(e => e.TaskCompleted is not null))
                {
                    response.Actions.Add(Actions.Complete(1, "\"done\""));
                }
                engine.CompleteOrchestratorTask(response);
                return;
            }
            if (Interlocked.Increment(ref runs) == 1)
            {
                store.FailNextTransactions = 1;
            }
            var result = new ActivityResponse { InstanceId = item.ActivityRequest.WorkflowInstance.InstanceId, TaskId = item.ActivityRequest.TaskId, Result = "1" };
            try
            {
                await engine.CompleteActivityTaskAsync(result);
            }
            catch (IOException)
            {
                Interlocked.Increment(ref failures);
            }
        }, stop.Token);

        var done = await engine.WaitAsync("w", r => r.IsTerminal, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => worker);

        Assert.Equal(OrchestrationStatus.Completed, done!.Status);
        Assert.Equal(2, runs);
        Assert.Equal(1, failures);
    }
}

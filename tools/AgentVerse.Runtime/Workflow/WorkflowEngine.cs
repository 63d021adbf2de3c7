using System.Collections.Concurrent;
using Grpc.Core;
using Dapr.DurableTask.Protobuf;
using AgentVerse.Runtime.Sidecar;
using AgentVerse.Runtime.State;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Runtime.Workflow;

/// <summary>
/// One sidecar's workflow engine, following daprd's (dapr/durabletask-go backend + the workflow actor):
/// each instance has a committed history and an inbox; a turn sends both to a connected worker, applies
/// the actions it returns, and commits the result as one step. Activities, timers and messages to other
/// instances are recorded in the same step and carried out after it commits, so a crash at any point
/// either repeats a step or resumes its side effects from the store.
/// </summary>
internal sealed class WorkflowEngine : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly string _appId;
    private readonly WorkflowStore? _store;
    private readonly string? _storeProblem;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly CancellationTokenSource _stopping;
    private readonly DurableTimers _timers;
    private readonly Lazy<Task> _ready;

    public WorkflowEngine(string appId, IEnumerable<StateStoreBinding> stateStores, ILogger logger, TimeProvider time, TimeSpan responseTimeout, CancellationToken stopping)
    {
        _appId = appId;
        _logger = logger;
        _time = time;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Dispatcher = new WorkItemDispatcher(responseTimeout);
        var actorStores = stateStores.Where(s => s.IsActorStateStore).ToList();
        if (actorStores.Count == 1)
        {
            _store = new WorkflowStore(actorStores[0], appId);
        }
        else
        {
            // daprd's wording (pkg/actors): workflows run on actors, which need exactly one actor state store.
            _storeProblem = actorStores.Count == 0
                ? "the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: \"true\" in your state store component file?"
                : $"detected duplicate actor state store: {actorStores[1].Name}";
        }
        _timers = new DurableTimers(OnTimerDueAsync, time);
        _ready = new Lazy<Task>(() => RecoverAsync(_stopping.Token));
    }

    public WorkItemDispatcher Dispatcher { get; }

    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Null when workflows can run here; otherwise why not (no actor state store).</summary>
    public string? StoreProblem => _storeProblem;

    private WorkflowStore Store => _store ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, _storeProblem!));

    /// <summary>Reloads unfinished instances from the store and resumes their pending work (no-op without an actor state store).</summary>
    public Task StartAsync() => _store is null ? Task.CompletedTask : _ready.Value;

    private async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        _ = Store;
        await _ready.Value.WaitAsync(cancellationToken);
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var active = await _store!.LoadActiveAsync(cancellationToken);
        if (active.Count > 0)
        {
            _logger.LogInformation("Resuming {Count} unfinished workflow instance(s) of app {AppId}", active.Count, _appId);
        }
        List<InstanceRecord> parents = [];
        foreach (var instanceId in active)
        {
            var instance = _instances.GetOrAdd(instanceId, id => new Instance(id));
            await instance.Gate.WaitAsync(cancellationToken);
            try
            {
                await LoadAsync(instance, cancellationToken);
                if (instance.Record is { IsTerminal: false } record)
                {
                    ResumeSideEffects(record);
                    Kick(instance);
                    if (record.History.Any(e => e.ChildWorkflowInstanceCreated is not null))
                    {
                        parents.Add(record);
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Cannot resume workflow instance {InstanceId}", instanceId);
            }
            finally
            {
                instance.Gate.Release();
            }
        }
        // After the loop: the children's own creation goes through the ready gate this method completes.
        Track(Task.Run(async () =>
        {
            foreach (var parent in parents)
            {
                try
                {
                    await StartMissingChildrenAsync(parent, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogError(e, "Workflow {InstanceId}: cannot recreate its child workflows", parent.InstanceId);
                }
            }
        }, cancellationToken));
    }

    // Re-issues what a committed step still owes: activities not answered, timers not fired, a scheduled start.
    private void ResumeSideEffects(InstanceRecord record)
    {
        foreach (var activity in record.Activities.Values)
        {
            Dispatcher.DispatchActivity(activity);
        }
        foreach (var timer in record.Timers.Values)
        {
            _timers.Arm(new TimerEntry(record.InstanceId, record.ExecutionId, timer.TimerId), timer.FireAt.ToDateTimeOffset());
        }
        if (record.ScheduledStartAt is { } start && record.Status == OrchestrationStatus.Pending)
        {
            _timers.Arm(new TimerEntry(record.InstanceId, record.ExecutionId, TimerEntry.StartTimerId), start);
        }
    }

    // ---- client operations --------------------------------------------------------------------

    /// <summary>Creates an instance; with <paramref name="waitForStart"/> (the gRPC API) returns only once a worker ran its first turn.</summary>
    public async Task<string> StartInstanceAsync(CreateInstanceRequest request, bool waitForStart, CancellationToken cancellationToken)
    {
        // daprd checks id syntax on its Dapr API (HTTP, StartWorkflow), not on the durabletask service.
        var instanceId = request.InstanceId.Length > 0 ? request.InstanceId : Guid.NewGuid().ToString();
        if (request.Name.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "workflow name is not configured"));
        }
        await EnsureReadyAsync(cancellationToken);
        var now = _time.GetUtcNow();
        // daprd treats a start time in the past as "now"; durabletask-js always sends one (epoch 0 by default).
        var scheduled = request.ScheduledStartTimestamp?.ToDateTimeOffset();
        var executionId = request.ExecutionId is { Length: > 0 } given ? given : Guid.NewGuid().ToString("N");
        var started = new ExecutionStartedEvent
        {
            Name = request.Name,
            Version = request.Version,
            Input = request.Input,
            WorkflowInstance = new WorkflowInstance { InstanceId = instanceId, ExecutionId = executionId },
            ScheduledStartTimestamp = request.ScheduledStartTimestamp,
            ParentTraceContext = request.ParentTraceContext,
        };
        started.Tags.Add(request.Tags);
        await CreateAsync(instanceId, started, scheduled > now ? scheduled : null, cancellationToken);

        // daprd's StartInstance returns once a worker has run the first turn, unless a start time was given.
        if (waitForStart && request.ScheduledStartTimestamp is null)
        {
            await WaitAsync(instanceId, r => r.Status != OrchestrationStatus.Pending, cancellationToken);
        }
        return instanceId;
    }

    private async Task CreateAsync(string instanceId, ExecutionStartedEvent started, DateTimeOffset? scheduledStart, CancellationToken cancellationToken)
    {
        var instance = _instances.GetOrAdd(instanceId, id => new Instance(id));
        await instance.Gate.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(instance, cancellationToken);
            if (instance.Record is { IsTerminal: false })
            {
                // daprd (orchestrator/create.go): only a finished instance id may be reused.
                throw new RpcException(new Status(StatusCode.Unknown, $"an active workflow with ID '{instanceId}' already exists"));
            }
            var now = _time.GetUtcNow();
            var record = new InstanceRecord
            {
                InstanceId = instanceId,
                Name = started.Name,
                ExecutionId = started.WorkflowInstance.ExecutionId,
                CreatedAt = now,
                LastUpdatedAt = now,
                ScheduledStartAt = scheduledStart,
                Input = started.Input,
            };
            record.Inbox.Add(new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTimeOffset(now), ExecutionStarted = started });
            await CommitAsync(instance, record, cancellationToken);
            ResumeSideEffects(record);
            Kick(instance);
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    /// <summary>daprd's rules for instance ids (pkg/api/universal/workflow.go <c>validateInstanceID</c>).</summary>
    public static void ValidateInstanceId(string instanceId)
    {
        const int maxLength = 64;
        if (instanceId.Length > maxLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"workflow instance ID exceeds the max length of {maxLength} characters"));
        }
        if (!instanceId.All(c => char.IsLetterOrDigit(c) || c is '_' or '-'))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"workflow instance ID '{instanceId}' is invalid: only alphanumeric and underscore characters are allowed"));
        }
    }

    /// <summary>The instance's current record, or null when it does not exist.</summary>
    public async Task<InstanceRecord?> GetAsync(string instanceId, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken);
        var instance = _instances.GetOrAdd(instanceId, id => new Instance(id));
        await instance.Gate.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(instance, cancellationToken);
            return instance.Record;
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    /// <summary>Waits until the instance satisfies <paramref name="condition"/>; null when it does not exist (or stops existing).</summary>
    public async Task<InstanceRecord?> WaitAsync(string instanceId, Func<InstanceRecord, bool> condition, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken);
        var instance = _instances.GetOrAdd(instanceId, id => new Instance(id));
        while (true)
        {
            InstanceRecord? record;
            Task changed;
            await instance.Gate.WaitAsync(cancellationToken);
            try
            {
                await LoadAsync(instance, cancellationToken);
                record = instance.Record;
                changed = instance.Changed.Task;
            }
            finally
            {
                instance.Gate.Release();
            }
            if (record is null || condition(record))
            {
                return record;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }

    public Task RaiseEventAsync(string instanceId, string name, string? input, CancellationToken cancellationToken) =>
        AddEventAsync(instanceId, NewEvent(e => e.EventRaised = new EventRaisedEvent { Name = name, Input = input }), cancellationToken);

    /// <summary>Asks the workflow to terminate and, as daprd does, waits until it has.</summary>
    public async Task TerminateAsync(string instanceId, string? output, bool recursive, bool wait, CancellationToken cancellationToken)
    {
        await AddEventAsync(instanceId, NewEvent(e => e.ExecutionTerminated = new ExecutionTerminatedEvent { Input = output, Recurse = recursive }), cancellationToken);
        if (wait)
        {
            await WaitAsync(instanceId, r => r.IsTerminal, cancellationToken);
        }
    }

    /// <summary>Suspends and waits until the workflow reports SUSPENDED (or has finished), like daprd.</summary>
    public async Task SuspendAsync(string instanceId, string? reason, bool wait, CancellationToken cancellationToken)
    {
        await AddEventAsync(instanceId, NewEvent(e => e.ExecutionSuspended = new ExecutionSuspendedEvent { Input = reason }), cancellationToken);
        if (wait)
        {
            await WaitAsync(instanceId, r => r.Status == OrchestrationStatus.Suspended || r.IsTerminal, cancellationToken);
        }
    }

    /// <summary>Resumes and waits until the workflow reports RUNNING (or has finished), like daprd.</summary>
    public async Task ResumeAsync(string instanceId, string? reason, bool wait, CancellationToken cancellationToken)
    {
        await AddEventAsync(instanceId, NewEvent(e => e.ExecutionResumed = new ExecutionResumedEvent { Input = reason }), cancellationToken);
        if (wait)
        {
            await WaitAsync(instanceId, r => r.Status == OrchestrationStatus.Running || r.IsTerminal, cancellationToken);
        }
    }

    /// <summary>
    /// Deletes a finished instance's state and, with <paramref name="recursive"/>, that of its finished
    /// child workflows; returns how many were deleted (0 = no such instance).
    /// </summary>
    public async Task<int> PurgeAsync(string instanceId, bool recursive, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken);
        var instance = _instances.GetOrAdd(instanceId, id => new Instance(id));
        List<string> children;
        await instance.Gate.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(instance, cancellationToken);
            if (instance.Record is not { } record)
            {
                return 0;
            }
            if (!record.IsTerminal)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"unable to purge workflow '{instanceId}': the workflow is not in a terminal state"));
            }
            children = recursive ? [.. record.History.Where(e => e.ChildWorkflowInstanceCreated is not null).Select(e => e.ChildWorkflowInstanceCreated.InstanceId)] : [];
            await Store.DeleteAsync(instanceId, instance.ETag!, cancellationToken);
            instance.Record = null;
            instance.ETag = null;
            instance.NotifyChanged();
        }
        finally
        {
            instance.Gate.Release();
        }
        var deleted = 1;
        foreach (var child in children.Distinct(StringComparer.Ordinal))
        {
            try
            {
                deleted += await PurgeAsync(child, recursive, cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                // A child still running (it outlived a terminated parent) keeps its state, as in daprd.
            }
        }
        return deleted;
    }

    private HistoryEvent NewEvent(Action<HistoryEvent> fill)
    {
        var e = new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTimeOffset(_time.GetUtcNow()) };
        fill(e);
        return e;
    }

    /// <summary>Puts an event in the instance's inbox (durably) and starts a turn to deliver it.</summary>
    private async Task AddEventAsync(string instanceId, HistoryEvent e, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken);
        var instance = _instances.GetOrAdd(instanceId, id => new Instance(id));
        await instance.Gate.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(instance, cancellationToken);
            if (instance.Record is not { } record)
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"no such instance exists: {instanceId}"));
            }
            if (record.IsTerminal)
            {
                // A finished workflow has no one left to read the event.
                return;
            }
            var next = record.Clone();
            next.Inbox.Add(e);
            await CommitAsync(instance, next, cancellationToken);
            Kick(instance);
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    // ---- worker answers -----------------------------------------------------------------------

    public void CompleteOrchestratorTask(WorkflowResponse response)
    {
        switch (Dispatcher.CompleteOrchestrator(response))
        {
            case WorkItemDispatcher.CompletionResult.Unknown:
                throw new RpcException(new Status(StatusCode.Unknown, $"unknown instance ID: {response.InstanceId}"));
            case WorkItemDispatcher.CompletionResult.Stale:
                _logger.LogDebug("Discarded a stale workflow answer for {InstanceId}", response.InstanceId);
                break;
        }
    }

    /// <summary>Records an activity's result in its workflow's inbox; returns once that is durable.</summary>
    public async Task CompleteActivityTaskAsync(ActivityResponse response)
    {
        switch (Dispatcher.CompleteActivity(response))
        {
            case WorkItemDispatcher.CompletionResult.Unknown:
                throw new RpcException(new Status(StatusCode.Unknown, $"unknown instance ID/task ID combo: {response.InstanceId}/{response.TaskId}"));
            case WorkItemDispatcher.CompletionResult.Stale:
                _logger.LogDebug("Discarded a stale activity answer for {InstanceId}/{TaskId}", response.InstanceId, response.TaskId);
                return;
        }
        // The dispatcher no longer owns the result: recording it must not depend on the caller staying connected.
        var cancellationToken = _stopping.Token;
        var instance = _instances.GetOrAdd(response.InstanceId, id => new Instance(id));
        var mine = new PendingResult(response);
        lock (instance.Results)
        {
            instance.Results.Add(mine);
        }
        await instance.Gate.WaitAsync(cancellationToken);
        try
        {
            if (!mine.Recorded.Task.IsCompleted)
            {
                await RecordResultsAsync(instance, cancellationToken);
            }
        }
        finally
        {
            instance.Gate.Release();
        }
        await mine.Recorded.Task;
    }

    // Caller holds the gate. Group commit: results that queued up while the gate was busy (a fan-out's
    // activities finish together) go into the inbox in one step.
    private async Task RecordResultsAsync(Instance instance, CancellationToken cancellationToken)
    {
        List<PendingResult> batch;
        lock (instance.Results)
        {
            batch = [.. instance.Results];
            instance.Results.Clear();
        }
        try
        {
            await LoadAsync(instance, cancellationToken);
            if (instance.Record is { IsTerminal: false } record)
            {
                var next = record.Clone();
                foreach (var response in batch.Select(r => r.Response))
                {
                    // A duplicate (at-least-once delivery) finds its activity already answered.
                    if (!next.Activities.Remove(response.TaskId, out var request))
                    {
                        continue;
                    }
                    next.Inbox.Add(NewEvent(e =>
                    {
                        if (response.FailureDetails is not null)
                        {
                            e.TaskFailed = new TaskFailedEvent { TaskScheduledId = response.TaskId, FailureDetails = response.FailureDetails, TaskExecutionId = request.TaskExecutionId };
                        }
                        else
                        {
                            e.TaskCompleted = new TaskCompletedEvent { TaskScheduledId = response.TaskId, Result = response.Result, TaskExecutionId = request.TaskExecutionId };
                        }
                    }));
                }
                if (next.Activities.Count != record.Activities.Count)
                {
                    await CommitAsync(instance, next, cancellationToken);
                    Kick(instance);
                }
            }
            foreach (var result in batch)
            {
                result.Recorded.TrySetResult();
            }
        }
        catch (Exception e)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                // The workers will not retry: run the activities again rather than lose their results.
                _logger.LogError(e, "Cannot record {Count} activity result(s) of workflow {InstanceId}; they will run again", batch.Count, instance.Id);
                foreach (var result in batch)
                {
                    if (instance.Record?.Activities.TryGetValue(result.Response.TaskId, out var again) == true)
                    {
                        Dispatcher.DispatchActivity(again);
                    }
                }
            }
            foreach (var result in batch)
            {
                result.Recorded.TrySetException(e);
            }
        }
    }

    private async Task OnTimerDueAsync(TimerEntry entry)
    {
        try
        {
            var instance = _instances.GetOrAdd(entry.InstanceId, id => new Instance(id));
            await instance.Gate.WaitAsync(_stopping.Token);
            try
            {
                await LoadAsync(instance, _stopping.Token);
                if (instance.Record is not { IsTerminal: false } record || record.ExecutionId != entry.ExecutionId)
                {
                    return;
                }
                if (entry.TimerId == TimerEntry.StartTimerId)
                {
                    Kick(instance);
                    return;
                }
                if (!record.Timers.TryGetValue(entry.TimerId, out var fired))
                {
                    return;
                }
                var next = record.Clone();
                next.Timers.Remove(entry.TimerId);
                next.Inbox.Add(NewEvent(e => e.TimerFired = fired));
                await CommitAsync(instance, next, _stopping.Token);
                Kick(instance);
            }
            finally
            {
                instance.Gate.Release();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Timer {TimerId} of workflow {InstanceId} failed to fire; retrying", entry.TimerId, entry.InstanceId);
            _timers.Arm(entry, _time.GetUtcNow() + RetryDelay);
        }
    }

    // ---- turns --------------------------------------------------------------------------------

    // Caller holds the gate. At most one turn loop runs per instance.
    private void Kick(Instance instance)
    {
        if (instance.TurnActive || instance.Record is not { IsTerminal: false } record || record.Inbox.Count == 0
            || record.ScheduledStartAt > _time.GetUtcNow() || _stopping.IsCancellationRequested)
        {
            return;
        }
        instance.TurnActive = true;
        Track(Task.Run(() => RunTurnsAsync(instance)));
    }

    private void Track(Task task)
    {
        _background.TryAdd(task, 0);
        task.ContinueWith(t => _background.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task RunTurnsAsync(Instance instance)
    {
        var stopping = _stopping.Token;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                WorkflowRequest request;
                List<HistoryEvent> newEvents;
                await instance.Gate.WaitAsync(stopping);
                try
                {
                    await LoadAsync(instance, stopping);
                    var record = instance.Record;
                    if (record is null || record.IsTerminal || record.Inbox.Count == 0 || record.ScheduledStartAt > _time.GetUtcNow())
                    {
                        instance.TurnActive = false;
                        return;
                    }
                    // Every turn starts with a fresh WorkflowStarted: SDKs take the workflow's clock from it.
                    newEvents = [NewEvent(e => e.WorkflowStarted = new WorkflowStartedEvent()), .. record.Inbox];
                    request = new WorkflowRequest { InstanceId = record.InstanceId, ExecutionId = record.ExecutionId };
                    request.PastEvents.AddRange(record.History);
                    request.NewEvents.AddRange(newEvents);
                }
                finally
                {
                    instance.Gate.Release();
                }

                var response = await Dispatcher.RunOrchestratorAsync(request, stopping);

                List<Func<Task>> afterCommit = [];
                await instance.Gate.WaitAsync(stopping);
                try
                {
                    var record = instance.Record;
                    if (record is null || record.ExecutionId != request.ExecutionId)
                    {
                        continue;
                    }
                    var next = record.Clone();
                    Apply(next, newEvents, response, afterCommit);
                    await CommitAsync(instance, next, stopping);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    _logger.LogError(e, "Workflow {InstanceId}: cannot commit a turn; it will run again", instance.Id);
                    instance.Loaded = false;
                    afterCommit.Clear();
                    await Task.Delay(RetryDelay, _time, stopping);
                    continue;
                }
                finally
                {
                    instance.Gate.Release();
                }
                foreach (var effect in afterCommit)
                {
                    await effect();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Workflow {InstanceId}: turn loop failed", instance.Id);
            instance.TurnActive = false;
        }
    }

    /// <summary>
    /// Applies one turn (durabletask-go runtimestate/applier.go): the delivered events join the history,
    /// each action becomes a history event whose eventId is the action id, and side effects are queued
    /// in <paramref name="afterCommit"/> to run once the step is durable.
    /// </summary>
    private void Apply(InstanceRecord next, List<HistoryEvent> newEvents, WorkflowResponse response, List<Func<Task>> afterCommit)
    {
        var now = _time.GetUtcNow();
        var timestamp = Timestamp.FromDateTimeOffset(now);
        next.History.AddRange(newEvents);
        next.Inbox.RemoveRange(0, newEvents.Count - 1);
        ExecutionTerminatedEvent? terminated = null;
        foreach (var e in newEvents)
        {
            switch (e.EventTypeCase)
            {
                case HistoryEvent.EventTypeOneofCase.ExecutionStarted when next.Status == OrchestrationStatus.Pending:
                    next.Status = OrchestrationStatus.Running;
                    break;
                case HistoryEvent.EventTypeOneofCase.ExecutionSuspended:
                    next.Status = OrchestrationStatus.Suspended;
                    break;
                case HistoryEvent.EventTypeOneofCase.ExecutionResumed:
                    next.Status = OrchestrationStatus.Running;
                    break;
                case HistoryEvent.EventTypeOneofCase.ExecutionTerminated:
                    terminated = e.ExecutionTerminated;
                    break;
            }
        }
        next.CustomStatus = response.CustomStatus;
        var started = next.History.FirstOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted;

        foreach (var action in response.Actions)
        {
            switch (action.WorkflowActionTypeCase)
            {
                case WorkflowAction.WorkflowActionTypeOneofCase.ScheduleTask:
                {
                    var task = action.ScheduleTask;
                    next.History.Add(new HistoryEvent
                    {
                        EventId = action.Id,
                        Timestamp = timestamp,
                        TaskScheduled = new TaskScheduledEvent { Name = task.Name, Version = task.Version, Input = task.Input, TaskExecutionId = task.TaskExecutionId },
                    });
                    var activity = new ActivityRequest
                    {
                        Name = task.Name,
                        Version = task.Version,
                        Input = task.Input,
                        WorkflowInstance = new WorkflowInstance { InstanceId = next.InstanceId, ExecutionId = next.ExecutionId },
                        TaskId = action.Id,
                        TaskExecutionId = task.TaskExecutionId,
                    };
                    next.Activities[action.Id] = activity;
                    afterCommit.Add(() =>
                    {
                        Dispatcher.DispatchActivity(activity);
                        return Task.CompletedTask;
                    });
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateTimer:
                {
                    var timer = action.CreateTimer;
                    var created = new TimerCreatedEvent { FireAt = timer.FireAt };
                    if (timer.HasName)
                    {
                        created.Name = timer.Name;
                    }
                    next.History.Add(new HistoryEvent { EventId = action.Id, Timestamp = timestamp, TimerCreated = created });
                    var fired = new TimerFiredEvent { FireAt = timer.FireAt, TimerId = action.Id };
                    next.Timers[action.Id] = fired;
                    var entry = new TimerEntry(next.InstanceId, next.ExecutionId, action.Id);
                    afterCommit.Add(() =>
                    {
                        _timers.Arm(entry, (timer.FireAt ?? timestamp).ToDateTimeOffset());
                        return Task.CompletedTask;
                    });
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.SendEvent:
                {
                    var send = action.SendEvent;
                    next.History.Add(new HistoryEvent
                    {
                        EventId = action.Id,
                        Timestamp = timestamp,
                        EventSent = new EventSentEvent { InstanceId = send.Instance?.InstanceId ?? "", Name = send.Name, Input = send.Data },
                    });
                    var target = send.Instance?.InstanceId ?? "";
                    afterCommit.Add(() => DeliverAsync(target, NewEvent(e => e.EventRaised = new EventRaisedEvent { Name = send.Name, Input = send.Data })));
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.TerminateWorkflow:
                {
                    var terminate = action.TerminateWorkflow;
                    afterCommit.Add(() => DeliverAsync(terminate.InstanceId,
                        NewEvent(e => e.ExecutionTerminated = new ExecutionTerminatedEvent { Input = terminate.Reason, Recurse = terminate.Recurse })));
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateChildWorkflow:
                {
                    var child = action.CreateChildWorkflow;
                    // durabletask-go derives a missing child id deterministically from the parent and the action id.
                    var childId = child.InstanceId.Length > 0 ? child.InstanceId : $"{next.InstanceId}:{action.Id:x4}";
                    next.History.Add(new HistoryEvent
                    {
                        EventId = action.Id,
                        Timestamp = timestamp,
                        ChildWorkflowInstanceCreated = new ChildWorkflowInstanceCreatedEvent { InstanceId = childId, Name = child.Name, Version = child.Version, Input = child.Input },
                    });
                    var childStart = ChildStart(next, action.Id, childId, child.Name, child.Version, child.Input);
                    afterCommit.Add(() => StartChildAsync(childId, childStart, next.InstanceId, action.Id));
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.WorkflowVersionNotAvailable:
                    next.Status = OrchestrationStatus.Stalled;
                    break;
                case WorkflowAction.WorkflowActionTypeOneofCase.CompleteWorkflow:
                    Complete(next, action, started, terminated, timestamp, afterCommit);
                    return;
            }
        }
    }

    private void Complete(InstanceRecord next, WorkflowAction action, ExecutionStartedEvent? started, ExecutionTerminatedEvent? terminated,
        Timestamp timestamp, List<Func<Task>> afterCommit)
    {
        var complete = action.CompleteWorkflow;
        if (complete.WorkflowStatus == OrchestrationStatus.ContinuedAsNew)
        {
            // A new generation: empty history, the new input, carried-over events, and whatever arrived meanwhile.
            var restart = started?.Clone() ?? new ExecutionStartedEvent { Name = next.Name };
            next.ExecutionId = Guid.NewGuid().ToString("N");
            restart.Input = complete.Result;
            restart.WorkflowInstance = new WorkflowInstance { InstanceId = next.InstanceId, ExecutionId = next.ExecutionId };
            restart.ScheduledStartTimestamp = null;
            List<HistoryEvent> inbox = [new HistoryEvent { EventId = -1, Timestamp = timestamp, ExecutionStarted = restart }, .. complete.CarryoverEvents, .. next.Inbox];
            next.History.Clear();
            next.Inbox.Clear();
            next.Inbox.AddRange(inbox);
            next.Activities.Clear();
            next.Timers.Clear();
            next.Input = complete.Result;
            next.Output = null;
            next.Failure = null;
            next.Status = OrchestrationStatus.Running;
            return;
        }

        next.History.Add(new HistoryEvent
        {
            EventId = action.Id,
            Timestamp = timestamp,
            ExecutionCompleted = new ExecutionCompletedEvent { WorkflowStatus = complete.WorkflowStatus, Result = complete.Result, FailureDetails = complete.FailureDetails },
        });
        next.Status = complete.WorkflowStatus;
        next.Output = complete.Result;
        next.Failure = complete.FailureDetails;
        next.CompletedAt = timestamp.ToDateTimeOffset();
        next.Inbox.Clear();
        next.Activities.Clear();
        next.Timers.Clear();

        if (complete.WorkflowStatus == OrchestrationStatus.Terminated && terminated?.Recurse == true)
        {
            foreach (var childId in OpenChildren(next.History))
            {
                afterCommit.Add(() => DeliverAsync(childId, NewEvent(e => e.ExecutionTerminated = new ExecutionTerminatedEvent { Input = terminated.Input, Recurse = true })));
            }
        }
        if (started?.ParentInstance is { } parent)
        {
            var result = NewEvent(e =>
            {
                if (complete.WorkflowStatus == OrchestrationStatus.Completed)
                {
                    e.ChildWorkflowInstanceCompleted = new ChildWorkflowInstanceCompletedEvent { TaskScheduledId = parent.TaskScheduledId, Result = complete.Result };
                }
                else
                {
                    e.ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
                    {
                        TaskScheduledId = parent.TaskScheduledId,
                        FailureDetails = complete.FailureDetails ?? new TaskFailureDetails
                        {
                            ErrorType = "WorkflowTerminated",
                            ErrorMessage = $"child workflow '{next.InstanceId}' ended with status {complete.WorkflowStatus}",
                        },
                    };
                }
            });
            afterCommit.Add(() => DeliverAsync(parent.WorkflowInstance.InstanceId, result));
        }
    }

    private static List<string> OpenChildren(List<HistoryEvent> history)
    {
        var created = history.Where(e => e.ChildWorkflowInstanceCreated is not null).ToDictionary(e => e.EventId, e => e.ChildWorkflowInstanceCreated.InstanceId);
        foreach (var e in history)
        {
            if (e.ChildWorkflowInstanceCompleted is { } done)
            {
                created.Remove(done.TaskScheduledId);
            }
            else if (e.ChildWorkflowInstanceFailed is { } failed)
            {
                created.Remove(failed.TaskScheduledId);
            }
        }
        return [.. created.Values];
    }

    private ExecutionStartedEvent ChildStart(InstanceRecord parent, int taskId, string childId, string name, string? version, string? input) => new()
    {
        Name = name,
        Version = version,
        Input = input,
        WorkflowInstance = new WorkflowInstance { InstanceId = childId, ExecutionId = Guid.NewGuid().ToString("N") },
        ParentInstance = new ParentInstanceInfo
        {
            TaskScheduledId = taskId,
            Name = parent.Name,
            WorkflowInstance = new WorkflowInstance { InstanceId = parent.InstanceId, ExecutionId = parent.ExecutionId },
            AppID = _appId,
        },
    };

    // A crash between a parent's commit and its child's creation would strand the parent: recreate missing children.
    private async Task StartMissingChildrenAsync(InstanceRecord parent, CancellationToken cancellationToken)
    {
        var open = OpenChildren(parent.History).ToHashSet(StringComparer.Ordinal);
        foreach (var created in parent.History.Where(e => e.ChildWorkflowInstanceCreated is { } c && open.Contains(c.InstanceId)))
        {
            var child = created.ChildWorkflowInstanceCreated;
            if (await GetAsync(child.InstanceId, cancellationToken) is null)
            {
                _logger.LogInformation("Workflow {ParentId}: recreating child workflow {ChildId}", parent.InstanceId, child.InstanceId);
                await StartChildAsync(child.InstanceId, ChildStart(parent, created.EventId, child.InstanceId, child.Name, child.Version, child.Input), parent.InstanceId, created.EventId);
            }
        }
    }

    private async Task StartChildAsync(string childId, ExecutionStartedEvent start, string parentId, int taskId)
    {
        try
        {
            await CreateAsync(childId, start, null, _stopping.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Workflow {ParentId}: cannot start child workflow {ChildId}", parentId, childId);
            await DeliverAsync(parentId, NewEvent(ev => ev.ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
            {
                TaskScheduledId = taskId,
                FailureDetails = new TaskFailureDetails { ErrorType = e.GetType().Name, ErrorMessage = e.Message },
            }));
        }
    }

    // Messages between instances are best effort: a missing or finished target drops them (daprd fails such runs outright).
    private async Task DeliverAsync(string instanceId, HistoryEvent e)
    {
        try
        {
            await AddEventAsync(instanceId, e, _stopping.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning(ex, "Cannot deliver {EventType} to workflow {InstanceId}", e.EventTypeCase, instanceId);
        }
    }

    // ---- persistence --------------------------------------------------------------------------

    // Caller holds the gate.
    private async Task LoadAsync(Instance instance, CancellationToken cancellationToken)
    {
        if (instance.Loaded)
        {
            return;
        }
        (instance.Record, instance.ETag) = await Store.LoadAsync(instance.Id, cancellationToken);
        instance.Loaded = true;
    }

    // Caller holds the gate. The in-memory record changes only once the store has the new one.
    private async Task CommitAsync(Instance instance, InstanceRecord next, CancellationToken cancellationToken)
    {
        next.LastUpdatedAt = _time.GetUtcNow();
        try
        {
            instance.ETag = await Store.SaveAsync(next, instance.ETag, cancellationToken);
        }
        catch (ETagMismatchException)
        {
            // Someone else wrote this instance (another runtime on the same store); re-read before the next step.
            instance.Loaded = false;
            throw new RpcException(new Status(StatusCode.Aborted, $"workflow '{instance.Id}' was changed concurrently; retry"));
        }
        instance.Record = next;
        instance.NotifyChanged();
        if (next.IsTerminal)
        {
            // A finished instance is only read from now on: keep it in the store, not in memory.
            instance.Record = null;
            instance.ETag = null;
            instance.Loaded = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_background.Keys).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _timers.DisposeAsync();
        if (_ready.IsValueCreated)
        {
            await _ready.Value.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _stopping.Dispose();
    }

    private sealed class Instance(string id)
    {
        public string Id { get; } = id;
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public bool Loaded { get; set; }
        public InstanceRecord? Record { get; set; }
        public string? ETag { get; set; }
        public bool TurnActive { get; set; }
        public TaskCompletionSource Changed { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Activity results waiting for the gate, recorded together by whoever gets it first.</summary>
        public List<PendingResult> Results { get; } = [];

        public void NotifyChanged()
        {
            var changed = Changed;
            Changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }
    }

    private sealed class PendingResult(ActivityResponse response)
    {
        public ActivityResponse Response { get; } = response;
        public TaskCompletionSource Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

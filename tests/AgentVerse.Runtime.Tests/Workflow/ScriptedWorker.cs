using System.Collections.Concurrent;
using Grpc.Core;
using Dapr.DurableTask.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>
/// A minimal durabletask worker for tests: one GetWorkItems stream, workflows written as functions
/// from the whole history (past + new events) to the actions not taken yet, activities as plain
/// functions. It honours ExecutionTerminated and suspension the way the SDKs do.
/// </summary>
internal sealed class ScriptedWorker(GrpcCalls grpc) : IAsyncDisposable
{
    private readonly Dictionary<string, Func<Turn, IEnumerable<WorkflowAction>>> _workflows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<string?, Task<string?>>> _activities = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>Every work item received, in order.</summary>
    public ConcurrentQueue<WorkItem> Received { get; } = new();

    /// <summary>When false, workflow work items are received but never answered (a hung worker).</summary>
    public bool AnswersWorkflows { get; set; } = true;

    public ScriptedWorker Workflow(string name, Func<Turn, IEnumerable<WorkflowAction>> run)
    {
        _workflows[name] = run;
        return this;
    }

    public ScriptedWorker Activity(string name, Func<string?, string?> run) => Activity(name, input => Task.FromResult(run(input)));

    public ScriptedWorker Activity(string name, Func<string?, Task<string?>> run)
    {
        _activities[name] = run;
        return this;
    }

    public ScriptedWorker Start()
    {
        _loop = RunAsync(_stop.Token);
        return this;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await grpc.UnaryAsync("/TaskHubSidecarService/Hello", new Empty(), Empty.Parser, TimeSpan.FromSeconds(10), cancellationToken);
        await foreach (var item in grpc.ServerStreamingAsync("/TaskHubSidecarService/GetWorkItems", new GetWorkItemsRequest(), WorkItem.Parser,
            cancellationToken: cancellationToken))
        {
            Received.Enqueue(item);
            _ = Task.Run(() => HandleAsync(item, cancellationToken), cancellationToken);
        }
    }

    private async Task HandleAsync(WorkItem item, CancellationToken cancellationToken)
    {
        try
        {
            if (item.WorkflowRequest is { } request)
            {
                if (!AnswersWorkflows)
                {
                    return;
                }
                var turn = new Turn(request);
                var response = new WorkflowResponse { InstanceId = request.InstanceId, CompletionToken = item.CompletionToken };
                response.Actions.AddRange(Decide(turn));
                response.CustomStatus = turn.CustomStatus;
                await grpc.UnaryAsync("/TaskHubSidecarService/CompleteOrchestratorTask", response, CompleteTaskResponse.Parser, TimeSpan.FromSeconds(10), cancellationToken);
            }
            else if (item.ActivityRequest is { } activity)
            {
                var response = new ActivityResponse { InstanceId = activity.WorkflowInstance.InstanceId, TaskId = activity.TaskId, CompletionToken = item.CompletionToken };
                try
                {
                    response.Result = await _activities[activity.Name](activity.Input);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    response.FailureDetails = new TaskFailureDetails { ErrorType = e.GetType().FullName, ErrorMessage = e.Message };
                }
                await grpc.UnaryAsync("/TaskHubSidecarService/CompleteActivityTask", response, CompleteTaskResponse.Parser, TimeSpan.FromSeconds(10), cancellationToken);
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped or dropped: the sidecar redelivers.
        }
    }

    private IEnumerable<WorkflowAction> Decide(Turn turn)
    {
        if (turn.New.FirstOrDefault(e => e.ExecutionTerminated is not null) is { } terminated)
        {
            return [Actions.Complete(-1, terminated.ExecutionTerminated.Input, OrchestrationStatus.Terminated)];
        }
        // SDKs buffer everything but resume/terminate while suspended.
        if (turn.IsSuspended)
        {
            return [];
        }
        try
        {
            return [.. _workflows[turn.Name](turn)];
        }
        catch (Exception e)
        {
            return [Actions.Fail(-1, e)];
        }
    }

    /// <summary>Drops the stream (RST_STREAM), as a crashed or stopped worker would.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _stop.Dispose();
    }
}

/// <summary>One workflow turn as a scripted worker sees it.</summary>
internal sealed class Turn(WorkflowRequest request)
{
    public WorkflowRequest Request { get; } = request;
    public IReadOnlyList<HistoryEvent> Past { get; } = request.PastEvents;
    public IReadOnlyList<HistoryEvent> New { get; } = request.NewEvents;
    public IEnumerable<HistoryEvent> All => Past.Concat(New);
    public ExecutionStartedEvent Started => All.First(e => e.ExecutionStarted is not null).ExecutionStarted;
    public string Name => Started.Name;
    public string? Input => Started.Input;
    public bool IsFirst => New.Any(e => e.ExecutionStarted is not null);
    public DateTimeOffset Now => New[0].Timestamp.ToDateTimeOffset();
    public string? CustomStatus { get; set; }

    public bool IsSuspended =>
        All.LastOrDefault(e => e.ExecutionSuspended is not null || e.ExecutionResumed is not null)?.ExecutionSuspended is not null;

    public IReadOnlySet<int> Scheduled => All.Where(e => e.TaskScheduled is not null).Select(e => e.EventId).ToHashSet();

    public IReadOnlyDictionary<int, string?> Results =>
        All.Where(e => e.TaskCompleted is not null).ToDictionary(e => e.TaskCompleted.TaskScheduledId, e => (string?)e.TaskCompleted.Result);

    public IEnumerable<TaskFailedEvent> Failures => All.Where(e => e.TaskFailed is not null).Select(e => e.TaskFailed);

    public bool TimerFired(int id) => All.Any(e => e.TimerFired?.TimerId == id);

    public bool TimerCreated(int id) => All.Any(e => e.TimerCreated is not null && e.EventId == id);

    public EventRaisedEvent? Event(string name) =>
        All.Where(e => e.EventRaised is not null).Select(e => e.EventRaised).FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Builders for the actions a worker returns.</summary>
internal static class Actions
{
    public static WorkflowAction CallActivity(int id, string name, string? input) =>
        new() { Id = id, ScheduleTask = new ScheduleTaskAction { Name = name, Input = input, TaskExecutionId = Guid.NewGuid().ToString("N") } };

    public static WorkflowAction Timer(int id, DateTimeOffset fireAt) =>
        new() { Id = id, CreateTimer = new CreateTimerAction { FireAt = Timestamp.FromDateTimeOffset(fireAt) } };

    public static WorkflowAction Complete(int id, string? result, OrchestrationStatus status = OrchestrationStatus.Completed) =>
        new() { Id = id, CompleteWorkflow = new CompleteWorkflowAction { WorkflowStatus = status, Result = result } };

    public static WorkflowAction ContinueAsNew(int id, string? input) =>
        new() { Id = id, CompleteWorkflow = new CompleteWorkflowAction { WorkflowStatus = OrchestrationStatus.ContinuedAsNew, Result = input } };

    public static WorkflowAction Fail(int id, Exception e) =>
        new()
        {
            Id = id,
            CompleteWorkflow = new CompleteWorkflowAction
            {
                WorkflowStatus = OrchestrationStatus.Failed,
                FailureDetails = new TaskFailureDetails { ErrorType = e.GetType().FullName, ErrorMessage = e.Message },
            },
        };

    public static WorkflowAction CallChild(int id, string name, string? input, string? instanceId = null) =>
        new() { Id = id, CreateChildWorkflow = new CreateChildWorkflowAction { Name = name, Input = input, InstanceId = instanceId ?? "" } };
}

using System.Security.Cryptography;
using System.Text;
using AgentVerse.Dapr.Workflow.Protocol;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Dapr.Workflow.Worker;

/// <summary>
/// One execution of a workflow step: replays <c>pastEvents</c> (IsReplaying) then <c>newEvents</c>
/// through the workflow code and collects the actions the code takes that history does not already
/// hold. Continuations run on a <see cref="WorkflowSynchronizationContext"/> drained after each event,
/// which makes a replay deterministic.
/// </summary>
internal sealed class ReplayWorkflowContext : WorkflowContext
{
    public const string NonDeterministicErrorType = "NonDeterministicWorkflowException";
    public const string WorkflowNotRegisteredErrorType = "WorkflowNotRegisteredException";

    // Namespace for deterministic GUIDs (any fixed value works; this one is durabletask's).
    private static readonly byte[] GuidNamespace = Guid.Parse("9e952958-5e33-4daf-827f-2fa12937b875").ToByteArray();

    private readonly WorkflowRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly WorkflowSerializer _serializer;
    private readonly ILoggerFactory _loggerFactory;
    private readonly WorkflowSynchronizationContext _sync = new();

    // Actions the code took this replay that history has not (yet) confirmed, by sequence number.
    private readonly SortedDictionary<int, OrchestratorAction> _pendingActions = [];
    private readonly Dictionary<int, OpenTask> _openTasks = [];
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<string?>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<HistoryEvent> _unconsumedEvents = [];
    private readonly List<HistoryEvent> _suspendedEvents = [];

    private string _name = string.Empty;
    private DateTime _currentUtcDateTime;
    private bool _isReplaying;
    private bool _isSuspended;
    private bool _started;
    private int _sequenceNumber;
    private int _guidCounter;
    private string? _customStatus;
    private (string? Input, bool PreserveUnprocessedEvents)? _continueAsNew;
    private OrchestratorAction? _completion;
    private bool _completionDropsPendingActions;
    private bool _nonDeterministic;

    public ReplayWorkflowContext(
        string instanceId, WorkflowRegistry registry, IServiceProvider services, WorkflowSerializer serializer, ILoggerFactory loggerFactory)
    {
        InstanceId = instanceId;
        _registry = registry;
        _services = services;
        _serializer = serializer;
        _loggerFactory = loggerFactory;
    }

    public override string Name => _name;

    public override string InstanceId { get; }

    public override DateTime CurrentUtcDateTime => _currentUtcDateTime;

    public override bool IsReplaying => _isReplaying;

    private bool IsCompleted => _completion is not null;

    public OrchestratorResponse Execute(OrchestratorRequest request, string completionToken)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_sync);
        try
        {
            _isReplaying = true;
            foreach (var historyEvent in request.PastEvents)
            {
                Apply(historyEvent);
            }

            _isReplaying = false;
            foreach (var historyEvent in request.NewEvents)
            {
                Apply(historyEvent);
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        return BuildResponse(request.InstanceId, completionToken);
    }

    private void Apply(HistoryEvent historyEvent)
    {
        if (_nonDeterministic)
        {
            return;
        }

        try
        {
            if (!IsCompleted)
            {
                Process(historyEvent);
                _sync.Drain();
            }
            else if (IsActionEcho(historyEvent.EventTypeCase))
            {
                // The code has returned, yet history may still hold actions a previous run took after
                // this point: those must match too, or the code changed under a running instance.
                Process(historyEvent);
            }
            else if (historyEvent.EventTypeCase == HistoryEvent.EventTypeOneofCase.EventRaised && _continueAsNew is not null)
            {
                // Once the code has returned, external events are only kept for ContinueAsNew to carry over.
                _unconsumedEvents.Add(historyEvent);
            }
        }
        catch (NonDeterministicWorkflowException ex)
        {
            _nonDeterministic = true;
            _completion = null;
            Complete(OrchestrationStatus.Failed, null, new TaskFailureDetails
            {
                ErrorType = NonDeterministicErrorType,
                ErrorMessage = ex.Message,
            }, dropPendingActions: true);
        }
    }

    private static bool IsActionEcho(HistoryEvent.EventTypeOneofCase eventType) => eventType
        is HistoryEvent.EventTypeOneofCase.TaskScheduled
        or HistoryEvent.EventTypeOneofCase.TimerCreated
        or HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCreated
        or HistoryEvent.EventTypeOneofCase.EventSent;

    private void Process(HistoryEvent e)
    {
        // While suspended, inbound events wait for the resume. Echoes of our own actions and step
        // markers are never buffered: they must match the actions the code took before the suspension.
        if (_isSuspended && IsInbound(e.EventTypeCase))
        {
            _suspendedEvents.Add(e);
            return;
        }

        switch (e.EventTypeCase)
        {
            case HistoryEvent.EventTypeOneofCase.OrchestratorStarted:
                if (e.Timestamp is not null)
                {
                    _currentUtcDateTime = e.Timestamp.ToDateTime();
                }

                break;
            case HistoryEvent.EventTypeOneofCase.ExecutionStarted:
                Start(e.ExecutionStarted);
                break;
            case HistoryEvent.EventTypeOneofCase.TaskScheduled:
                Match(e.EventId, OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask, e.TaskScheduled.Name);
                break;
            case HistoryEvent.EventTypeOneofCase.TimerCreated:
                Match(e.EventId, OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer, null);
                break;
            case HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCreated:
                Match(e.EventId, OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration, e.SubOrchestrationInstanceCreated.Name);
                break;
            case HistoryEvent.EventTypeOneofCase.EventSent:
                Match(e.EventId, OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent, e.EventSent.Name);
                break;
            case HistoryEvent.EventTypeOneofCase.TaskCompleted:
                Resolve(e.TaskCompleted.TaskScheduledId, e.TaskCompleted.Result);
                break;
            case HistoryEvent.EventTypeOneofCase.TaskFailed:
                Fail(e.TaskFailed.TaskScheduledId, e.TaskFailed.FailureDetails);
                break;
            case HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCompleted:
                Resolve(e.SubOrchestrationInstanceCompleted.TaskScheduledId, e.SubOrchestrationInstanceCompleted.Result);
                break;
            case HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceFailed:
                Fail(e.SubOrchestrationInstanceFailed.TaskScheduledId, e.SubOrchestrationInstanceFailed.FailureDetails);
                break;
            case HistoryEvent.EventTypeOneofCase.TimerFired:
                Resolve(e.TimerFired.TimerId, null);
                break;
            case HistoryEvent.EventTypeOneofCase.EventRaised:
                Deliver(e);
                break;
            case HistoryEvent.EventTypeOneofCase.ExecutionSuspended:
                _isSuspended = true;
                break;
            case HistoryEvent.EventTypeOneofCase.ExecutionResumed:
                _isSuspended = false;
                var buffered = _suspendedEvents.ToList();
                _suspendedEvents.Clear();
                foreach (var bufferedEvent in buffered)
                {
                    Process(bufferedEvent);
                    _sync.Drain();
                }

                break;
            case HistoryEvent.EventTypeOneofCase.ExecutionTerminated:
                Complete(OrchestrationStatus.Terminated, e.ExecutionTerminated.Input, null, dropPendingActions: true);
                break;
            default:
                // ExecutionCompleted, ContinueAsNew, OrchestratorCompleted, ExecutionStalled: nothing to replay.
                break;
        }
    }

    private static bool IsInbound(HistoryEvent.EventTypeOneofCase eventType) => eventType
        is HistoryEvent.EventTypeOneofCase.TaskCompleted
        or HistoryEvent.EventTypeOneofCase.TaskFailed
        or HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCompleted
        or HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceFailed
        or HistoryEvent.EventTypeOneofCase.TimerFired
        or HistoryEvent.EventTypeOneofCase.EventRaised;

    private void Start(ExecutionStartedEvent started)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        _name = started.Name;
        IWorkflow workflow;
        try
        {
            if (!_registry.TryCreateWorkflow(started.Name, _services, out workflow))
            {
                Complete(OrchestrationStatus.Failed, null, new TaskFailureDetails
                {
                    ErrorType = WorkflowNotRegisteredErrorType,
                    ErrorMessage = $"No workflow named '{started.Name}' is registered with this worker.",
                    IsNonRetriable = true,
                }, dropPendingActions: true);
                return;
            }
        }
        catch (Exception ex)
        {
            Complete(OrchestrationStatus.Failed, null, FailureDetailsConverter.FromException(ex), dropPendingActions: true);
            return;
        }

        var input = started.Input;
        _sync.Post(_ => _ = RunWorkflowAsync(workflow, input), null);
    }

    private async Task RunWorkflowAsync(IWorkflow workflow, string? serializedInput)
    {
        string? output;
        try
        {
            var input = _serializer.Deserialize(serializedInput, workflow.InputType);
            var result = await workflow.RunAsync(this, input);
            output = _serializer.Serialize(result);
        }
        catch (Exception ex)
        {
            Complete(OrchestrationStatus.Failed, null, FailureDetailsConverter.FromException(ex), dropPendingActions: true);
            return;
        }

        if (_continueAsNew is { } continueAsNew)
        {
            Complete(OrchestrationStatus.ContinuedAsNew, continueAsNew.Input, null, dropPendingActions: true);
        }
        else
        {
            // Fire-and-forget tasks scheduled but not awaited still go out with the completion.
            Complete(OrchestrationStatus.Completed, output, null, dropPendingActions: false);
        }
    }

    private void Complete(OrchestrationStatus status, string? result, TaskFailureDetails? failure, bool dropPendingActions)
    {
        if (IsCompleted)
        {
            return;
        }

        _completion = new OrchestratorAction
        {
            Id = _sequenceNumber++,
            CompleteOrchestration = new CompleteOrchestrationAction
            {
                OrchestrationStatus = status,
                Result = result,
                FailureDetails = failure,
            },
        };
        _completionDropsPendingActions = dropPendingActions;
    }

    private OrchestratorResponse BuildResponse(string instanceId, string completionToken)
    {
        var response = new OrchestratorResponse
        {
            InstanceId = instanceId,
            CompletionToken = completionToken,
            CustomStatus = _customStatus,
        };
        if (_completion is null || !_completionDropsPendingActions)
        {
            response.Actions.AddRange(_pendingActions.Values);
        }

        if (_completion is not null)
        {
            if (_continueAsNew is { PreserveUnprocessedEvents: true } &&
                _completion.CompleteOrchestration.OrchestrationStatus == OrchestrationStatus.ContinuedAsNew)
            {
                _completion.CompleteOrchestration.CarryoverEvents.AddRange(_unconsumedEvents);
                _completion.CompleteOrchestration.CarryoverEvents.AddRange(
                    _suspendedEvents.Where(e => e.EventTypeCase == HistoryEvent.EventTypeOneofCase.EventRaised));
            }

            response.Actions.Add(_completion);
        }

        return response;
    }

    // ------------------------------------------------------------------ matching history to actions

    private void Match(int sequenceNumber, OrchestratorAction.OrchestratorActionTypeOneofCase kind, string? name)
    {
        if (!_pendingActions.TryGetValue(sequenceNumber, out var action))
        {
            throw new NonDeterministicWorkflowException(
                $"Non-deterministic workflow '{_name}' (instance '{InstanceId}'): a previous execution {Describe(kind, name)} " +
                $"with sequence number {sequenceNumber}, but the replayed code did not schedule any action with that sequence number. " +
                "Workflow code must make the same calls in the same order on every replay.");
        }

        var actualName = ActionName(action);
        if (action.OrchestratorActionTypeCase != kind || (name is not null && !string.Equals(name, actualName, StringComparison.Ordinal)))
        {
            throw new NonDeterministicWorkflowException(
                $"Non-deterministic workflow '{_name}' (instance '{InstanceId}'): a previous execution {Describe(kind, name)} " +
                $"with sequence number {sequenceNumber}, but the replayed code {Describe(action.OrchestratorActionTypeCase, actualName)} instead. " +
                "Workflow code must make the same calls in the same order on every replay.");
        }

        _pendingActions.Remove(sequenceNumber);
    }

    private static string? ActionName(OrchestratorAction action) => action.OrchestratorActionTypeCase switch
    {
        OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask => action.ScheduleTask.Name,
        OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration => action.CreateSubOrchestration.Name,
        OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent => action.SendEvent.Name,
        _ => null,
    };

    private static string Describe(OrchestratorAction.OrchestratorActionTypeOneofCase kind, string? name) => kind switch
    {
        OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask => $"called activity '{name}'",
        OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer => "created a timer",
        OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration => $"called child workflow '{name}'",
        OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent => $"sent event '{name}'",
        _ => $"took action {kind}",
    };

    private void Resolve(int taskId, string? result)
    {
        // Unknown ids are duplicates or tasks the code stopped waiting for (a cancelled timeout timer).
        if (_openTasks.Remove(taskId, out var open))
        {
            open.Completion.TrySetResult(result);
        }
    }

    private void Fail(int taskId, TaskFailureDetails? failure)
    {
        if (_openTasks.Remove(taskId, out var open))
        {
            var details = FailureDetailsConverter.ToDetails(failure)
                ?? new WorkflowTaskFailureDetails("Unknown", "The task failed without failure details.");
            open.Completion.TrySetException(new WorkflowTaskFailedException(
                $"{open.Description} (#{taskId}) failed: {details.ErrorType}: {details.ErrorMessage}", details));
        }
    }

    private void Deliver(HistoryEvent e)
    {
        if (_eventWaiters.TryGetValue(e.EventRaised.Name, out var waiters) && waiters.First is { } first)
        {
            waiters.RemoveFirst();
            first.Value.TrySetResult(e.EventRaised.Input);
        }
        else
        {
            _unconsumedEvents.Add(e);
        }
    }

    // ------------------------------------------------------------------ scheduling

    private Task<string?> Schedule(OrchestratorAction action, string description)
    {
        action.Id = _sequenceNumber++;
        var completion = new TaskCompletionSource<string?>();
        if (!IsCompleted)
        {
            _pendingActions[action.Id] = action;
            _openTasks[action.Id] = new OpenTask(completion, description);
        }

        return completion.Task;
    }

    public override async Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var serializedInput = _serializer.Serialize(input);
        var taskExecutionId = DeterministicGuid($"{InstanceId}:task:{_sequenceNumber}").ToString();
        var result = await WithRetriesAsync(
            options?.RetryPolicy,
            () => Schedule(
                new OrchestratorAction
                {
                    ScheduleTask = new ScheduleTaskAction { Name = name, Input = serializedInput, TaskExecutionId = taskExecutionId },
                },
                $"Activity '{name}'"),
            () => new CreateTimerAction { ActivityRetry = new TimerOriginActivityRetry { TaskExecutionId = taskExecutionId } });
        return _serializer.Deserialize<TResult>(result);
    }

    public override async Task<TResult> CallChildWorkflowAsync<TResult>(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowName);
        var serializedInput = _serializer.Serialize(input);
        string? childInstanceId = null;
        var result = await WithRetriesAsync(
            options?.RetryPolicy,
            () =>
            {
                childInstanceId = options?.InstanceId ?? $"{InstanceId}:{_sequenceNumber:X4}";
                return Schedule(
                    new OrchestratorAction
                    {
                        CreateSubOrchestration = new CreateSubOrchestrationAction
                        {
                            InstanceId = childInstanceId,
                            Name = workflowName,
                            Input = serializedInput,
                        },
                    },
                    $"Child workflow '{workflowName}'");
            },
            () => new CreateTimerAction { ChildWorkflowRetry = new TimerOriginChildWorkflowRetry { InstanceId = childInstanceId ?? string.Empty } });
        return _serializer.Deserialize<TResult>(result);
    }

    /// <summary>Retries as durable timers between attempts, so the waiting survives restarts.</summary>
    private async Task<string?> WithRetriesAsync(WorkflowRetryPolicy? policy, Func<Task<string?>> attempt, Func<CreateTimerAction> retryTimer)
    {
        if (policy is null)
        {
            return await attempt();
        }

        var firstAttemptAt = CurrentUtcDateTime;
        for (var attemptNumber = 1; ; attemptNumber++)
        {
            try
            {
                return await attempt();
            }
            catch (WorkflowTaskFailedException) when (attemptNumber < policy.MaxNumberOfAttempts)
            {
                var delay = policy.GetDelay(attemptNumber);
                if (policy.RetryTimeout != Timeout.InfiniteTimeSpan && CurrentUtcDateTime + delay - firstAttemptAt > policy.RetryTimeout)
                {
                    throw;
                }

                var timer = retryTimer();
                timer.FireAt = Timestamp.FromDateTime(CurrentUtcDateTime + delay);
                await Schedule(new OrchestratorAction { CreateTimer = timer }, "Retry timer");
            }
        }
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
        => CreateTimerCore(fireAt, new CreateTimerAction { CreateTimer = new TimerOriginCreateTimer() }, cancellationToken);

    private Task<string?> CreateTimerCore(DateTime fireAt, CreateTimerAction timer, CancellationToken cancellationToken)
    {
        timer.FireAt = Timestamp.FromDateTime(fireAt.Kind switch
        {
            DateTimeKind.Utc => fireAt,
            DateTimeKind.Local => fireAt.ToUniversalTime(),
            _ => DateTime.SpecifyKind(fireAt, DateTimeKind.Utc),
        });
        var action = new OrchestratorAction { CreateTimer = timer };
        var task = Schedule(action, "Timer");
        if (cancellationToken.CanBeCanceled)
        {
            var id = action.Id;
            cancellationToken.Register(() =>
            {
                if (_openTasks.Remove(id, out var open))
                {
                    open.Completion.TrySetCanceled(cancellationToken);
                }
            });
        }

        return task;
    }

    public override async Task<T> WaitForExternalEventAsync<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        var result = await WaitForEventCore(eventName, cancellationToken);
        return _serializer.Deserialize<T>(result);
    }

    public override async Task<T> WaitForExternalEventAsync<T>(string eventName, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return await WaitForExternalEventAsync<T>(eventName);
        }

        using var cancelWait = new CancellationTokenSource();
        var eventTask = WaitForEventCore(eventName, cancelWait.Token);
        if (!eventTask.IsCompleted)
        {
            if (timeout <= TimeSpan.Zero)
            {
                cancelWait.Cancel();
            }
            else
            {
                using var cancelTimer = new CancellationTokenSource();
                var timer = CreateTimerCore(
                    CurrentUtcDateTime + timeout,
                    new CreateTimerAction { ExternalEvent = new TimerOriginExternalEvent { Name = eventName } },
                    cancelTimer.Token);
                var winner = await Task.WhenAny(eventTask, timer);

                // Synchronous Cancel on purpose: CancelAsync would run the callbacks on the thread pool, outside the replay.
                (winner == timer ? cancelWait : cancelTimer).Cancel();
            }
        }

        // Throws TaskCanceledException when the timeout won, as Dapr.Workflow does.
        return _serializer.Deserialize<T>(await eventTask);
    }

    private Task<string?> WaitForEventCore(string eventName, CancellationToken cancellationToken)
    {
        var index = _unconsumedEvents.FindIndex(e => string.Equals(e.EventRaised.Name, eventName, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            var buffered = _unconsumedEvents[index];
            _unconsumedEvents.RemoveAt(index);
            return Task.FromResult<string?>(buffered.EventRaised.Input);
        }

        if (!_eventWaiters.TryGetValue(eventName, out var waiters))
        {
            waiters = new LinkedList<TaskCompletionSource<string?>>();
            _eventWaiters.Add(eventName, waiters);
        }

        var completion = new TaskCompletionSource<string?>();
        var node = waiters.AddLast(completion);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (node.List is not null)
                {
                    waiters.Remove(node);
                }

                completion.TrySetCanceled(cancellationToken);
            });
        }

        return completion.Task;
    }

    // ------------------------------------------------------------------ the rest

    public override void SetCustomStatus(object? customStatus) => _customStatus = _serializer.Serialize(customStatus);

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true)
        => _continueAsNew = (_serializer.Serialize(newInput), preserveUnprocessedEvents);

    public override Guid NewGuid() => DeterministicGuid($"{InstanceId}_{CurrentUtcDateTime:O}_{_guidCounter++}");

    public override ILogger CreateReplaySafeLogger(string categoryName)
        => new ReplaySafeLogger(_loggerFactory.CreateLogger(categoryName), () => IsReplaying);

    /// <summary>A name-based GUID (RFC 4122 layout, version 5 bits) from a SHA-256 of namespace + name.</summary>
    private static Guid DeterministicGuid(string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var data = new byte[GuidNamespace.Length + nameBytes.Length];
        GuidNamespace.CopyTo(data, 0);
        nameBytes.CopyTo(data, GuidNamespace.Length);
        var hash = SHA256.HashData(data).AsSpan(0, 16).ToArray();
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash, bigEndian: true);
    }

    private sealed record OpenTask(TaskCompletionSource<string?> Completion, string Description);
}

/// <summary>History and the replayed code disagree.</summary>
internal sealed class NonDeterministicWorkflowException(string message) : Exception(message);

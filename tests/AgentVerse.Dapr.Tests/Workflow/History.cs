using AgentVerse.Dapr.Workflow;
using AgentVerse.Dapr.Workflow.Protocol;
using AgentVerse.Dapr.Workflow.Worker;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Dapr.Tests.Workflow;

/// <summary>Hand-built history events, as the sidecar would send them.</summary>
internal static class History
{
    public static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    public static HistoryEvent Started(DateTime at) => new()
    {
        EventId = -1,
        Timestamp = Timestamp.FromDateTime(at),
        OrchestratorStarted = new OrchestratorStartedEvent(),
    };

    public static HistoryEvent ExecutionStarted(string name, string? input = null) => new()
    {
        EventId = -1,
        Timestamp = Timestamp.FromDateTime(T0),
        ExecutionStarted = new ExecutionStartedEvent
        {
            Name = name,
            Input = input,
            OrchestrationInstance = new OrchestrationInstance { InstanceId = "wf-1" },
        },
    };

    public static HistoryEvent TaskScheduled(int id, string name, string? input = null) => new()
    {
        EventId = id,
        TaskScheduled = new TaskScheduledEvent { Name = name, Input = input },
    };

    public static HistoryEvent TaskCompleted(int id, string? result) => new()
    {
        EventId = -1,
        TaskCompleted = new TaskCompletedEvent { TaskScheduledId = id, Result = result },
    };

    public static HistoryEvent TaskFailed(int id, string errorType, string message) => new()
    {
        EventId = -1,
        TaskFailed = new TaskFailedEvent
        {
            TaskScheduledId = id,
            FailureDetails = new TaskFailureDetails { ErrorType = errorType, ErrorMessage = message },
        },
    };

    public static HistoryEvent TimerCreated(int id, DateTime fireAt) => new()
    {
        EventId = id,
        TimerCreated = new TimerCreatedEvent { FireAt = Timestamp.FromDateTime(fireAt) },
    };

    public static HistoryEvent TimerFired(int id, DateTime fireAt) => new()
    {
        EventId = -1,
        TimerFired = new TimerFiredEvent { TimerId = id, FireAt = Timestamp.FromDateTime(fireAt) },
    };

    public static HistoryEvent SubOrchestrationCreated(int id, string name, string instanceId) => new()
    {
        EventId = id,
        SubOrchestrationInstanceCreated = new SubOrchestrationInstanceCreatedEvent { Name = name, InstanceId = instanceId },
    };

    public static HistoryEvent SubOrchestrationCompleted(int id, string? result) => new()
    {
        EventId = -1,
        SubOrchestrationInstanceCompleted = new SubOrchestrationInstanceCompletedEvent { TaskScheduledId = id, Result = result },
    };

    public static HistoryEvent EventRaised(string name, string? input) => new()
    {
        EventId = -1,
        EventRaised = new EventRaisedEvent { Name = name, Input = input },
    };

    public static HistoryEvent Suspended() => new() { EventId = -1, ExecutionSuspended = new ExecutionSuspendedEvent() };

    public static HistoryEvent Resumed() => new() { EventId = -1, ExecutionResumed = new ExecutionResumedEvent() };

    public static HistoryEvent Terminated(string? output) => new()
    {
        EventId = -1,
        ExecutionTerminated = new ExecutionTerminatedEvent { Input = output },
    };

    public static OrchestratorRequest Request(IEnumerable<HistoryEvent> past, IEnumerable<HistoryEvent> @new)
    {
        var request = new OrchestratorRequest { InstanceId = "wf-1" };
        request.PastEvents.AddRange(past);
        request.NewEvents.AddRange(@new);
        return request;
    }
}

/// <summary>Runs workflow steps through the real executor with the workflows a test registers.</summary>
internal sealed class ReplayHarness
{
    private readonly OrchestrationExecutor _executor;

    public ReplayHarness(Action<DaprWorkflowOptions> register, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        var options = new DaprWorkflowOptions();
        register(options);
        Options = options;
        Services = new ServiceCollection().BuildServiceProvider();
        Serializer = new WorkflowSerializer(options.JsonSerializerOptions);
        _executor = new OrchestrationExecutor(options.Registry, Services, Serializer, loggerFactory ?? NullLoggerFactory.Instance);
    }

    public DaprWorkflowOptions Options { get; }

    public IServiceProvider Services { get; }

    public WorkflowSerializer Serializer { get; }

    public OrchestratorResponse Run(IEnumerable<HistoryEvent> past, IEnumerable<HistoryEvent> @new, string completionToken = "token-1")
        => _executor.Execute(History.Request(past, @new), completionToken);

    public static CompleteOrchestrationAction Completion(OrchestratorResponse response)
    {
        var completions = response.Actions.Where(a => a.CompleteOrchestration is not null).ToList();
        Assert.Single(completions);
        return completions[0].CompleteOrchestration;
    }
}

using AgentVerse.Dapr.Workflow.Protocol;

namespace AgentVerse.Dapr.Workflow;

/// <summary>Runtime status of a workflow instance.</summary>
public enum WorkflowRuntimeStatus
{
    /// <summary>The status is not one this library knows.</summary>
    Unknown = -1,
    /// <summary>The workflow is running.</summary>
    Running = 0,
    /// <summary>The workflow completed successfully.</summary>
    Completed = 1,
    /// <summary>The workflow restarted itself with new input.</summary>
    ContinuedAsNew = 2,
    /// <summary>The workflow failed.</summary>
    Failed = 3,
    /// <summary>The workflow was canceled.</summary>
    Canceled = 4,
    /// <summary>The workflow was terminated.</summary>
    Terminated = 5,
    /// <summary>The workflow is scheduled but has not started.</summary>
    Pending = 6,
    /// <summary>The workflow is suspended.</summary>
    Suspended = 7,
    /// <summary>The workflow is stalled (for example a version mismatch).</summary>
    Stalled = 8,
}

/// <summary>A snapshot of a workflow instance.</summary>
public sealed class WorkflowState
{
    private readonly WorkflowSerializer _serializer;

    internal WorkflowState(OrchestrationState state, WorkflowSerializer serializer)
    {
        _serializer = serializer;
        InstanceId = state.InstanceId;
        Name = state.Name;
        RuntimeStatus = System.Enum.IsDefined((WorkflowRuntimeStatus)(int)state.OrchestrationStatus)
            ? (WorkflowRuntimeStatus)(int)state.OrchestrationStatus
            : WorkflowRuntimeStatus.Unknown;
        CreatedAt = state.CreatedTimestamp?.ToDateTimeOffset() ?? default;
        LastUpdatedAt = state.LastUpdatedTimestamp?.ToDateTimeOffset() ?? default;
        SerializedInput = state.Input;
        SerializedOutput = state.Output;
        SerializedCustomStatus = state.CustomStatus;
        FailureDetails = Worker.FailureDetailsConverter.ToDetails(state.FailureDetails);
    }

    /// <summary>The instance id.</summary>
    public string InstanceId { get; }

    /// <summary>The workflow name.</summary>
    public string Name { get; }

    /// <summary>The runtime status.</summary>
    public WorkflowRuntimeStatus RuntimeStatus { get; }

    /// <summary>When the instance was created.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When the instance last changed.</summary>
    public DateTimeOffset LastUpdatedAt { get; }

    /// <summary>The JSON input (only when inputs and outputs were requested).</summary>
    public string? SerializedInput { get; }

    /// <summary>The JSON output (only when inputs and outputs were requested).</summary>
    public string? SerializedOutput { get; }

    /// <summary>The JSON custom status (only when inputs and outputs were requested).</summary>
    public string? SerializedCustomStatus { get; }

    /// <summary>Why the workflow failed, when it did.</summary>
    public WorkflowTaskFailureDetails? FailureDetails { get; }

    /// <summary>True while the workflow has not reached a terminal status.</summary>
    public bool IsWorkflowRunning => RuntimeStatus is WorkflowRuntimeStatus.Running or WorkflowRuntimeStatus.Pending
        or WorkflowRuntimeStatus.Suspended or WorkflowRuntimeStatus.Stalled;

    /// <summary>True once the workflow completed, failed or was terminated.</summary>
    public bool IsWorkflowCompleted => RuntimeStatus is WorkflowRuntimeStatus.Completed or WorkflowRuntimeStatus.Failed
        or WorkflowRuntimeStatus.Terminated or WorkflowRuntimeStatus.Canceled;

    /// <summary>Reads the input as <typeparamref name="T"/>.</summary>
    public T? ReadInputAs<T>() => _serializer.Deserialize<T?>(SerializedInput);

    /// <summary>Reads the output as <typeparamref name="T"/>.</summary>
    public T? ReadOutputAs<T>() => _serializer.Deserialize<T?>(SerializedOutput);

    /// <summary>Reads the custom status as <typeparamref name="T"/>.</summary>
    public T? ReadCustomStatusAs<T>() => _serializer.Deserialize<T?>(SerializedCustomStatus);
}

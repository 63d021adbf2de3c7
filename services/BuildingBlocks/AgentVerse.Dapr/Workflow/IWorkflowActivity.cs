namespace AgentVerse.Dapr.Workflow;

/// <summary>An activity as the worker sees it: untyped input and output.</summary>
public interface IWorkflowActivity
{
    /// <summary>The type the serialized input is read as.</summary>
    Type InputType { get; }

    /// <summary>The type of the activity's result.</summary>
    Type OutputType { get; }

    /// <summary>Runs the activity.</summary>
    Task<object?> RunAsync(WorkflowActivityContext context, object? input);
}

/// <summary>
/// Base class for a workflow activity: ordinary (non-replayed) code that does the real work, such as
/// I/O. Activities run at least once per scheduling, so make them idempotent. One class per activity,
/// resolved from a DI scope per execution and registered with
/// <see cref="DaprWorkflowOptions.RegisterActivity{TActivity}()"/> under its type name.
/// </summary>
/// <typeparam name="TInput">The activity input.</typeparam>
/// <typeparam name="TOutput">The activity result.</typeparam>
public abstract class WorkflowActivity<TInput, TOutput> : IWorkflowActivity
{
    /// <inheritdoc />
    public Type InputType => typeof(TInput);

    /// <inheritdoc />
    public Type OutputType => typeof(TOutput);

    /// <summary>The activity code.</summary>
    public abstract Task<TOutput> RunAsync(WorkflowActivityContext context, TInput input);

    async Task<object?> IWorkflowActivity.RunAsync(WorkflowActivityContext context, object? input)
        => await RunAsync(context, (TInput)input!);
}

/// <summary>What an activity knows about its invocation.</summary>
public sealed class WorkflowActivityContext
{
    /// <summary>Creates the context for one activity execution.</summary>
    public WorkflowActivityContext(string name, string instanceId, int taskId, string taskExecutionId, CancellationToken cancellationToken = default)
    {
        Name = name;
        InstanceId = instanceId;
        TaskId = taskId;
        TaskExecutionId = taskExecutionId;
        CancellationToken = cancellationToken;
    }

    /// <summary>The activity name.</summary>
    public string Name { get; }

    /// <summary>The id of the workflow instance that scheduled the activity.</summary>
    public string InstanceId { get; }

    /// <summary>The sequence number of the scheduling action in the workflow.</summary>
    public int TaskId { get; }

    /// <summary>An id that stays the same across retries of one activity call (empty on old sidecars).</summary>
    public string TaskExecutionId { get; }

    /// <summary>Signalled when the worker shuts down.</summary>
    public CancellationToken CancellationToken { get; }
}
